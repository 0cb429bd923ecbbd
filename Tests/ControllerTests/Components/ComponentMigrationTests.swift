import Controller
import Foundation
import PostgresDriver
import SQLStorage
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Migration `v5-components` on a database that has workspaces: they keep the component references
/// they were served with before (manifests as given, charts empty) until applied again.
@Suite struct ComponentMigrationTests {
    static let sqlite3 = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: sqlite3 != nil, "needs the sqlite3 command to turn a database back to schema v4"))
    func existingWorkspacesKeepTheirReferences() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("controller.sqlite")
        let configMap: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "mcp"], "data": ["image": "ghcr.io/x/y:1"]]
        let spec = WorkspaceSpec(components: [
            ComponentSpec(name: "backend", chart: ChartReference(repository: "oci://ghcr.io/qbeast/charts", chart: "qbeast-backend", version: "1.4.2")),
            ComponentSpec(name: "mcp", manifests: [configMap]),
        ])
        do {
            let store = try SQLStore.sqlite(path: path)
            _ = try await store.createTenant(TenantRequest(name: "acme"), at: Date())
            _ = try await store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: Date())
            _ = try await store.applyWorkspace(
                tenant: "acme", environment: "prod", name: "analytics", spec: spec,
                components: [try ResolvedComponent(name: "backend", manifests: [configMap])],
                resolvedFor: EnvironmentSettings(), at: Date())
        }
        // Back to schema v4, as a controller of the previous version left it.
        let downgrade = Process()
        downgrade.executableURL = URL(fileURLWithPath: try #require(Self.sqlite3))
        downgrade.arguments = [
            path,
            """
            DROP TABLE resolved_components;
            ALTER TABLE environments DROP COLUMN namespace;
            ALTER TABLE environments DROP COLUMN registry;
            DELETE FROM grdb_migrations WHERE identifier = 'v5-components';
            """,
        ]
        try downgrade.run()
        downgrade.waitUntilExit()
        #expect(downgrade.terminationStatus == 0)

        let store = try SQLStore.sqlite(path: path)
        let desired = try #require(try await store.desiredState(tenant: "acme", environment: "prod"))
        #expect(
            desired.workspaces.first?.components == [
                try ResolvedComponent(name: "backend", manifests: []).ref,
                try ResolvedComponent(name: "mcp", manifests: [configMap]).ref,
            ])
        let environment = try #require(try await store.environment(tenant: "acme", name: "prod"))
        #expect(environment.namespace == "qbeast" && environment.registry == nil)
        let mcp = try #require(try await store.resolvedComponent(tenant: "acme", environment: "prod", hash: desired.workspaces[0].components[1].hash))
        try mcp.verify()
    }
}
