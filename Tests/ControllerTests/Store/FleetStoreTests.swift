import ControllerModel
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// The fleet half of the store where `StoreConformanceTests` leaves off: `workspaceNames`,
/// `resolvedComponent`, what `recordStatus` keeps, `alerts` filters, the refusals of
/// `updateEnvironmentSettings` and `deleteWorkspace`, and what `desiredState` carries. The same
/// expectations on SQLite and PostgreSQL.
@Suite struct FleetStoreTests {
    func component(_ name: String, _ value: String, objects: Int = 1) throws -> ResolvedComponent {
        try ResolvedComponent(
            name: name,
            manifests: (0..<objects).map { index -> JSONValue in
                ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string("\(name)-\(index)")], "data": ["value": .string(value)]]
            })
    }

    func spec(_ value: String) -> WorkspaceSpec {
        WorkspaceSpec(components: [
            ComponentSpec(
                name: "mcp",
                manifests: [
                    [
                        "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "mcp"],
                        "data": ["value": .string(value)],
                    ]
                ])
        ])
    }

    @discardableResult
    func apply(
        _ store: any ControllerStore, _ name: String, environment: String = "prod", spec: WorkspaceSpec = WorkspaceSpec(),
        components: [ResolvedComponent] = [], settings: EnvironmentSettings = EnvironmentSettings(),
        precondition: GenerationPrecondition = .any, at now: Date = t(0)
    ) async throws -> WorkspaceApplyResult {
        try await store.applyWorkspace(
            tenant: "acme", environment: environment, name: name, spec: spec, components: components,
            resolvedFor: settings, precondition: precondition, at: now)
    }

    @Test(arguments: TestStoreKind.allCases) func workspaceNamesAreThoseOfTheEnvironment(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await addEnvironment(store, tenant: "acme", "dev")
            try await apply(store, "search")
            try await apply(store, "lab", environment: "dev")
            #expect(try await store.workspaceNames(tenant: "acme", environment: "prod") == ["analytics", "search"])
            #expect(try await store.workspaceNames(tenant: "acme", environment: "dev") == ["lab"])
            #expect(try await store.workspaceNames(tenant: "acme", environment: "nope").isEmpty, "an unknown environment has none")
            #expect(try await store.workspaceNames(tenant: "nope", environment: "prod").isEmpty)
            await expectStoreError(.notFound("environment \"nope\" not found in tenant \"acme\"")) {
                _ = try await store.workspaces(tenant: "acme", environment: "nope")
            }
            #expect(try await store.workspaces(tenant: "acme", environment: "dev").map(\.name) == ["lab"])
            _ = try await store.deleteWorkspace(tenant: "acme", environment: "prod", name: "search")
            #expect(try await store.workspaceNames(tenant: "acme", environment: "prod") == ["analytics"])
        }
    }

    @Test(arguments: TestStoreKind.allCases) func aResolvedComponentIsFoundByHashWithinItsEnvironment(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await addEnvironment(store, tenant: "acme", "dev")
            let shared = try component("mcp", "shared", objects: 2)
            let own = try component("cache", "prod")
            try await apply(store, "search", components: [shared, own])
            try await apply(store, "lab", environment: "dev", components: [shared])
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "prod", hash: own.hash) == own)
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "prod", hash: shared.hash) == shared)
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "dev", hash: own.hash) == nil, "another environment's")
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "nope", hash: own.hash) == nil)
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "prod", hash: "sha256:0000") == nil)

            // Replaced components go; deleted workspaces take theirs with them.
            let changed = try component("cache", "prod-2")
            try await apply(store, "search", components: [shared, changed])
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "prod", hash: own.hash) == nil)
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "prod", hash: changed.hash) == changed)
            _ = try await store.deleteWorkspace(tenant: "acme", environment: "dev", name: "lab")
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "dev", hash: shared.hash) == nil)
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "prod", hash: shared.hash) == shared)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func desiredStateCarriesEachWorkspacesComponentsInOrderAndItsRules(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await addEnvironment(store, tenant: "acme", "dev")
            let empty = try #require(try await store.desiredState(tenant: "acme", environment: "dev"))
            #expect(empty.tenant == "acme" && empty.environment == "dev" && empty.workspaces.isEmpty)
            let dev = try #require(try await store.environment(tenant: "acme", name: "dev"))
            #expect(empty.revision == dev.desiredRevision)

            let second = try component("zz-second", "1", objects: 3)
            let first = try component("aa-first", "1")
            let allowlist = AlertAllowlist(labels: ["severity", "team"], annotations: ["summary"])
            let applied = try await apply(store, "search", spec: WorkspaceSpec(alertAllowlist: allowlist), components: [second, first])
            try await apply(store, "lab", environment: "dev", components: [first])
            let desired = try #require(try await store.desiredState(tenant: "acme", environment: "prod"))
            #expect(desired.revision == applied.revision)
            #expect(desired.workspaces.map(\.name) == ["analytics", "search"])
            let search = try #require(desired.workspaces.last)
            #expect(search.components == [second.ref, first.ref], "in the order given, with their object counts")
            #expect(search.components.map(\.objects) == [3, 1])
            #expect(search.alertAllowlist == allowlist && search.ruleGroups.isEmpty && search.generation == 1)
            #expect(desired.workspaces.first?.components.isEmpty == true)
            #expect(try await store.environment(tenant: "acme", name: "prod")?.desiredRevision == applied.revision)
            #expect(try await store.desiredState(tenant: "nope", environment: "prod") == nil)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func statusIsKeptForKnownWorkspacesOnly(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            let condition = Condition(type: "Ready", status: .true, reason: "Installed", message: "all objects ready", lastTransitionTime: t(5))
            let componentStatus = ComponentStatus(
                name: "mcp", state: "Ready", appliedHash: "sha256:abcd",
                objects: [ObjectStatus(apiVersion: "v1", kind: "ConfigMap", name: "mcp", state: "Ready")])
            let facts = AgentFacts(
                instance: "agent-1", version: "1.2.0", certificateExpiry: t(86_400), rulesLoaded: 2, metricsStoreReachable: false,
                desiredRevision: 4, namespace: "qbeast")
            let report = StatusReport(
                agent: facts,
                workspaces: [
                    WorkspaceStatus(name: "analytics", observedGeneration: 1, conditions: [condition], components: [componentStatus]),
                    WorkspaceStatus(name: "deleted-meanwhile", observedGeneration: 3, conditions: [], components: []),
                ])
            try await store.recordStatus(tenant: "acme", environment: "prod", report: report, at: t(10))
            #expect(try await store.workspaceNames(tenant: "acme", environment: "prod") == ["analytics"], "a status creates no workspace")
            #expect(
                try await store.workspace(tenant: "acme", environment: "prod", name: "analytics")?.status
                    == ReportedWorkspaceStatus(observedGeneration: 1, conditions: [condition], components: [componentStatus], reportedAt: t(10)))
            let environment = try #require(try await store.environment(tenant: "acme", name: "prod"))
            #expect(environment.agent == facts && environment.agentLastSeen == t(10))

            // The next report replaces the last; a workspace it does not mention keeps its status.
            var newer = facts
            newer.version = "1.3.0"
            try await store.recordStatus(tenant: "acme", environment: "prod", report: StatusReport(agent: newer, workspaces: []), at: t(20))
            let after = try #require(try await store.environment(tenant: "acme", name: "prod"))
            #expect(after.agent?.version == "1.3.0" && after.agentLastSeen == t(20))
            #expect(try await store.workspace(tenant: "acme", environment: "prod", name: "analytics")?.status?.reportedAt == t(10))
            #expect(after.desiredRevision == environment.desiredRevision, "a status report is not a change of desired state")

            await expectStoreError(.notFound("tenant \"nope\" not found")) {
                try await store.recordStatus(tenant: "nope", environment: "prod", report: report, at: t(30))
            }
        }
    }

    @Test(arguments: TestStoreKind.allCases) func alertsAreFilteredByTenantEnvironmentAndStateInOrder(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await addEnvironment(store, tenant: "acme", "dev")
            try await addEnvironment(store, tenant: "beta", "prod")
            try await report(store, [agentAlert("Late", startsAt: t(5)), agentAlert("Early", value: 0.5)], at: t(6))
            try await report(store, [agentAlert("Gone", .resolved, startsAt: t(1), endsAt: t(3))], at: t(6))
            try await report(store, [agentAlert("Dev")], at: t(6), environment: "dev")
            try await report(store, [agentAlert("Other")], at: t(6), tenant: "beta")

            func names(_ filter: AlertFilter) async throws -> [String] { try await store.alerts(filter).compactMap { $0.labels["alertname"] } }
            #expect(try await names(AlertFilter()) == ["Dev", "Early", "Gone", "Late", "Other"], "by tenant, environment, start")
            #expect(try await names(AlertFilter(tenant: "acme")) == ["Dev", "Early", "Gone", "Late"])
            #expect(try await names(AlertFilter(environment: "prod")) == ["Early", "Gone", "Late", "Other"])
            #expect(try await names(AlertFilter(tenant: "acme", environment: "prod")) == ["Early", "Gone", "Late"])
            #expect(try await names(AlertFilter(state: .resolved)) == ["Gone"])
            #expect(try await names(AlertFilter(tenant: "acme", environment: "prod", state: .firing)) == ["Early", "Late"])
            #expect(try await names(AlertFilter(tenant: "beta", state: .resolved)).isEmpty)
            #expect(try await names(AlertFilter(tenant: "nope")).isEmpty)

            let early = try #require(try await store.alerts(AlertFilter(tenant: "acme", environment: "prod")).first)
            let sent = agentAlert("Early", value: 0.5)
            #expect(
                early
                    == StoredAlert(
                        tenant: "acme", environment: "prod", workspace: "analytics", fingerprint: sent.fingerprint, state: .firing,
                        labels: sent.labels, annotations: [:], startsAt: t(0), endsAt: nil, value: 0.5, receivedAt: t(6)))
        }
    }

    @Test(arguments: TestStoreKind.allCases) func settingsChangeOnlyWhileWhatTheyWereResolvedFromHolds(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            let mcp = try component("mcp", "1")
            let cache = try component("cache", "1")
            try await apply(store, "analytics", components: [mcp])
            try await apply(store, "search", components: [cache])
            let settings = EnvironmentSettings()
            let before = try #require(try await store.environment(tenant: "acme", name: "prod"))
            let current = [
                ResolvedWorkspace(name: "analytics", generation: 2, components: [mcp]), ResolvedWorkspace(name: "search", generation: 1, components: [cache]),
            ]
            let moved = EnvironmentSettings(namespace: "data", registry: "registry.example/ghcr")
            let stale = "the workspaces of acme/prod changed while their components were being resolved; try again"

            await expectStoreError(.conflict("the namespace or registry of acme/prod changed while components were being resolved; try again")) {
                _ = try await store.updateEnvironmentSettings(
                    tenant: "acme", name: "prod", from: EnvironmentSettings(namespace: "old"), to: moved,
                    workspaces: current, at: t(10))
            }
            // One workspace missing from what was resolved, then one too many.
            await expectStoreError(.conflict(stale)) {
                _ = try await store.updateEnvironmentSettings(tenant: "acme", name: "prod", from: settings, to: moved, workspaces: [current[0]], at: t(10))
            }
            await expectStoreError(.conflict(stale)) {
                _ = try await store.updateEnvironmentSettings(
                    tenant: "acme", name: "prod", from: settings, to: moved,
                    workspaces: current + [ResolvedWorkspace(name: "ghost", generation: 1, components: [])], at: t(10))
            }
            await expectStoreError(.notFound("environment \"nope\" not found in tenant \"acme\"")) {
                _ = try await store.updateEnvironmentSettings(tenant: "acme", name: "nope", from: settings, to: moved, workspaces: [], at: t(10))
            }
            #expect(try await store.environment(tenant: "acme", name: "prod") == before, "nothing written by a refusal")

            // The same settings: nothing moves, whatever components come with them.
            let unchanged = try await store.updateEnvironmentSettings(
                tenant: "acme", name: "prod", from: settings, to: settings,
                workspaces: [
                    ResolvedWorkspace(name: "analytics", generation: 2, components: [cache]),
                    current[1],
                ], at: t(10))
            #expect(unchanged.revision == nil && unchanged.environment == before)
            #expect(try await store.workspace(tenant: "acme", environment: "prod", name: "analytics")?.generation == 2)

            // A change: workspaces whose components differ move a generation, the others stay.
            let rendered = try component("mcp", "rendered for data")
            let update = try await store.updateEnvironmentSettings(
                tenant: "acme", name: "prod", from: settings, to: moved,
                workspaces: [
                    ResolvedWorkspace(name: "analytics", generation: 2, components: [rendered]),
                    current[1],
                ], at: t(20))
            let revision = try #require(update.revision)
            #expect(revision > before.desiredRevision)
            #expect(
                update.environment.namespace == "data" && update.environment.registry == "registry.example/ghcr"
                    && update.environment.desiredRevision == revision)
            let analytics = try #require(try await store.workspace(tenant: "acme", environment: "prod", name: "analytics"))
            #expect(analytics.generation == 3 && analytics.updatedAt == t(20))
            #expect(try await store.workspace(tenant: "acme", environment: "prod", name: "search")?.generation == 1)
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "prod", hash: rendered.hash) == rendered)
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "prod", hash: mcp.hash) == nil)
            #expect(try await store.desiredState(tenant: "acme", environment: "prod")?.revision == revision)

            // Applying with the old settings is refused now.
            await expectStoreError(.conflict("the namespace or registry of acme/prod changed while components were being resolved; try again")) {
                try await apply(store, "analytics", components: [mcp], settings: settings)
            }
        }
    }

    @Test(arguments: TestStoreKind.allCases) func deletingAWorkspaceChecksItsPreconditionAndFindsIt(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            let revision = try #require(try await store.environment(tenant: "acme", name: "prod")?.desiredRevision)
            // A workspace that is not there is not found, whatever was expected of it.
            for precondition in [GenerationPrecondition.exists, .generation(1), .absent] {
                await expectStoreError(.notFound("workspace \"search\" not found in acme/prod")) {
                    _ = try await store.deleteWorkspace(tenant: "acme", environment: "prod", name: "search", precondition: precondition)
                }
            }
            await expectStoreError(.notFound("workspace \"analytics\" not found in acme/nope")) {
                _ = try await store.deleteWorkspace(tenant: "acme", environment: "nope", name: "analytics", precondition: .any)
            }
            await expectStoreError(.preconditionFailed("workspace \"analytics\" already exists (If-None-Match: *)")) {
                _ = try await store.deleteWorkspace(tenant: "acme", environment: "prod", name: "analytics", precondition: .absent)
            }
            #expect(try await store.workspaceNames(tenant: "acme", environment: "prod") == ["analytics"], "nothing deleted by a refusal")
            #expect(try await store.environment(tenant: "acme", name: "prod")?.desiredRevision == revision)

            let deleted = try await store.deleteWorkspace(tenant: "acme", environment: "prod", name: "analytics", precondition: .exists)
            #expect(deleted > revision)
            #expect(try await store.environment(tenant: "acme", name: "prod")?.desiredRevision == deleted)
            #expect(try await store.desiredState(tenant: "acme", environment: "prod")?.workspaces.isEmpty == true)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func applyingChecksItsPreconditionAndSaysWhetherItCreated(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            let existing = try await apply(store, "analytics", spec: spec("1"), precondition: .exists, at: t(5))
            #expect(!existing.created && existing.workspace.generation == 2 && existing.workspace.createdAt == t(0) && existing.workspace.updatedAt == t(5))
            #expect(try await apply(store, "analytics", spec: spec("1"), precondition: .generation(2), at: t(6)).revision == nil, "unchanged")
            let created = try await apply(store, "search", spec: spec("1"), precondition: .absent, at: t(7))
            #expect(created.created && created.workspace.generation == 1 && created.workspace.createdAt == t(7))
            await expectStoreError(.notFound("tenant \"nope\" not found")) {
                _ = try await store.applyWorkspace(
                    tenant: "nope", environment: "prod", name: "x", spec: WorkspaceSpec(), components: [],
                    resolvedFor: EnvironmentSettings(), precondition: .any, at: t(8))
            }
        }
    }
}
