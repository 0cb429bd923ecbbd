import Controller
import ControllerModel
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// The `ControllerStore` protocol exercised directly, the same expectations for SQLite and PostgreSQL
/// (a throwaway server started by `TestPostgres`).
@Suite struct StoreConformanceTests {
    static let kinds = TestStoreKind.allCases
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// Opens a fresh store, runs `body`, removes the database.
    func with(_ kind: TestStoreKind, _ body: (any ControllerStore) async throws -> Void) async throws {
        let opened = try await TestStore.open(kind)
        do {
            try await body(opened.store)
            await opened.close()
        } catch {
            await opened.close()
            throw error
        }
    }

    func expectError(_ expected: StoreError, _ sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(expected)", sourceLocation: sourceLocation)
        } catch let error as StoreError {
            #expect(error == expected, sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected \(expected), got \(error)", sourceLocation: sourceLocation)
        }
    }

    func component(_ name: String, _ value: String) throws -> ResolvedComponent {
        try ResolvedComponent(
            name: name,
            manifests: [
                [
                    "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)],
                    "data": ["value": .string(value)],
                ]
            ])
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

    @Test(arguments: kinds) func tenantsAndEnvironments(_ kind: TestStoreKind) async throws {
        try await with(kind) { store in
            let tenant = try await store.createTenant(TenantRequest(name: "acme", displayName: "Acme"), at: now)
            #expect(tenant.name == "acme" && tenant.displayName == "Acme" && tenant.createdAt == now)
            await expectError(.conflict("tenant \"acme\" already exists")) { _ = try await store.createTenant(TenantRequest(name: "acme"), at: now) }
            _ = try await store.createTenant(TenantRequest(name: "beta"), at: now)
            #expect(try await store.tenants().map(\.name) == ["acme", "beta"])
            #expect(try await store.tenant("acme")?.displayName == "Acme")
            #expect(try await store.tenant("nope") == nil)

            let prod = try await store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: now)
            #expect(prod.namespace == EnvironmentSettings.defaultNamespace && prod.registry == nil && prod.desiredRevision > 0)
            let dev = try await store.createEnvironment(
                tenant: "acme",
                EnvironmentRequest(
                    name: "dev", cloud: .gcp, mode: .provided,
                    namespace: "data", registry: "r.example/x"), at: now)
            #expect(dev.desiredRevision > prod.desiredRevision, "one revision counter for the whole store")
            #expect(dev.namespace == "data" && dev.registry == "r.example/x")
            await expectError(.conflict("environment \"prod\" already exists in tenant \"acme\"")) {
                _ = try await store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: now)
            }
            await expectError(.notFound("tenant \"nope\" not found")) {
                _ = try await store.createEnvironment(tenant: "nope", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: now)
            }
            await expectError(.notFound("tenant \"nope\" not found")) { _ = try await store.environments(tenant: "nope") }
            #expect(try await store.environments(tenant: "acme").map(\.name) == ["dev", "prod"])
            #expect(try await store.environment(tenant: "acme", name: "dev")?.cloud == .gcp)
            #expect(try await store.environment(tenant: "acme", name: "nope") == nil)

            await expectError(.conflict("tenant \"acme\" still has 2 environment(s); delete them first")) { try await store.deleteTenant("acme") }
            await expectError(.notFound("tenant \"nope\" not found")) { try await store.deleteTenant("nope") }
            let deletedAt = try await store.deleteEnvironment(tenant: "acme", name: "dev", at: now)
            #expect(deletedAt > dev.desiredRevision)
            await expectError(.notFound("environment \"dev\" not found in tenant \"acme\"")) {
                _ = try await store.deleteEnvironment(tenant: "acme", name: "dev", at: now)
            }
            let again = try await store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "dev", cloud: .aws, mode: .provided), at: now)
            #expect(again.desiredRevision > deletedAt, "an environment created again never repeats a revision")
            _ = try await store.deleteEnvironment(tenant: "acme", name: "dev", at: now)
            _ = try await store.deleteEnvironment(tenant: "acme", name: "prod", at: now)
            try await store.deleteTenant("acme")
            #expect(try await store.tenants().map(\.name) == ["beta"])
        }
    }

    @Test(arguments: kinds) func workspacesAndDesiredState(_ kind: TestStoreKind) async throws {
        try await with(kind) { store in
            _ = try await store.createTenant(TenantRequest(name: "acme"), at: now)
            let environment = try await store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: now)
            let settings = EnvironmentSettings()
            let v1 = try component("mcp", "1")
            let created = try await store.applyWorkspace(
                tenant: "acme", environment: "prod", name: "analytics", spec: spec("1"), components: [v1],
                resolvedFor: settings, at: now)
            #expect(created.created && created.workspace.generation == 1)
            let revision1 = try #require(created.revision)
            #expect(revision1 > environment.desiredRevision)
            let same = try await store.applyWorkspace(
                tenant: "acme", environment: "prod", name: "analytics", spec: spec("1"), components: [v1],
                resolvedFor: settings, at: now)
            #expect(!same.created && same.revision == nil && same.workspace.generation == 1, "nothing changed, nothing moves")
            let v2 = try component("mcp", "2")
            let changed = try await store.applyWorkspace(
                tenant: "acme", environment: "prod", name: "analytics", spec: spec("2"), components: [v2],
                resolvedFor: settings, at: now.addingTimeInterval(5))
            #expect(!changed.created && changed.workspace.generation == 2 && (changed.revision ?? 0) > revision1)
            #expect(changed.workspace.updatedAt == now.addingTimeInterval(5) && changed.workspace.createdAt == now)
            await expectError(.conflict("the namespace or registry of acme/prod changed while components were being resolved; try again")) {
                _ = try await store.applyWorkspace(
                    tenant: "acme", environment: "prod", name: "analytics", spec: spec("3"), components: [],
                    resolvedFor: EnvironmentSettings(namespace: "other"), at: now)
            }
            await expectError(.notFound("environment \"nope\" not found in tenant \"acme\"")) {
                _ = try await store.applyWorkspace(
                    tenant: "acme", environment: "nope", name: "analytics", spec: spec("3"), components: [],
                    resolvedFor: settings, at: now)
            }

            let desired = try #require(try await store.desiredState(tenant: "acme", environment: "prod"))
            #expect(desired.revision == changed.revision)
            #expect(desired.workspaces.map(\.name) == ["analytics"])
            #expect(desired.workspaces.first?.generation == 2)
            #expect(desired.workspaces.first?.components.map(\.hash) == [v2.hash])
            #expect(try await store.desiredState(tenant: "acme", environment: "nope") == nil)
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "prod", hash: v2.hash) == v2)
            #expect(try await store.resolvedComponent(tenant: "acme", environment: "prod", hash: v1.hash) == nil)
            #expect(try await store.workspaces(tenant: "acme", environment: "prod").map(\.name) == ["analytics"])
            #expect(try await store.workspace(tenant: "acme", environment: "prod", name: "analytics")?.spec == spec("2"))

            // Settings: refused when the workspaces changed meanwhile; otherwise generation and revision move.
            await expectError(.conflict("the workspaces of acme/prod changed while their components were being resolved; try again")) {
                _ = try await store.updateEnvironmentSettings(
                    tenant: "acme", name: "prod", from: settings, to: EnvironmentSettings(namespace: "data"),
                    workspaces: [ResolvedWorkspace(name: "analytics", generation: 1, components: [v2])], at: now)
            }
            let moved = try component("mcp", "moved")
            let update = try await store.updateEnvironmentSettings(
                tenant: "acme", name: "prod", from: settings, to: EnvironmentSettings(namespace: "data"),
                workspaces: [ResolvedWorkspace(name: "analytics", generation: 2, components: [moved])],
                at: now)
            #expect(update.environment.namespace == "data" && (update.revision ?? 0) > (changed.revision ?? 0))
            #expect(try await store.workspace(tenant: "acme", environment: "prod", name: "analytics")?.generation == 3)
            await expectError(.conflict("the namespace or registry of acme/prod changed while components were being resolved; try again")) {
                _ = try await store.updateEnvironmentSettings(tenant: "acme", name: "prod", from: settings, to: settings, workspaces: [], at: now)
            }

            await expectError(.conflict("environment \"prod\" still has 1 workspace(s); delete them first")) {
                _ = try await store.deleteEnvironment(tenant: "acme", name: "prod", at: now)
            }
            let deleted = try await store.deleteWorkspace(tenant: "acme", environment: "prod", name: "analytics")
            #expect(deleted > (update.revision ?? 0))
            #expect(try await store.desiredState(tenant: "acme", environment: "prod")?.revision == deleted)
            await expectError(.notFound("workspace \"analytics\" not found in acme/prod")) {
                _ = try await store.deleteWorkspace(tenant: "acme", environment: "prod", name: "analytics")
            }
        }
    }

    @Test(arguments: kinds) func generationPreconditions(_ kind: TestStoreKind) async throws {
        try await with(kind) { store in
            _ = try await store.createTenant(TenantRequest(name: "acme"), at: now)
            _ = try await store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: now)
            func apply(_ value: String, _ precondition: GenerationPrecondition) async throws -> WorkspaceApplyResult {
                try await store.applyWorkspace(
                    tenant: "acme", environment: "prod", name: "analytics", spec: spec(value), components: [try component("mcp", value)],
                    resolvedFor: EnvironmentSettings(), precondition: precondition, at: now)
            }
            await expectError(.preconditionFailed("workspace \"analytics\" does not exist, so If-Match cannot hold")) { _ = try await apply("1", .exists) }
            #expect(try await apply("1", .absent).workspace.generation == 1)
            await expectError(.preconditionFailed("workspace \"analytics\" already exists (If-None-Match: *)")) { _ = try await apply("1", .absent) }
            #expect(try await apply("2", .generation(1)).workspace.generation == 2)
            await expectError(
                .preconditionFailed(
                    "workspace \"analytics\" is at generation 2, not 1: it changed since you read it; GET it again and reapply your change")
            ) {
                _ = try await apply("3", .generation(1))
            }
            #expect(try await store.workspace(tenant: "acme", environment: "prod", name: "analytics")?.spec == spec("2"), "nothing written")
            await expectError(
                .preconditionFailed(
                    "workspace \"analytics\" is at generation 2, not 1: it changed since you read it; GET it again and reapply your change")
            ) {
                _ = try await store.deleteWorkspace(tenant: "acme", environment: "prod", name: "analytics", precondition: .generation(1))
            }
            _ = try await store.deleteWorkspace(tenant: "acme", environment: "prod", name: "analytics", precondition: .generation(2))
            await expectError(.notFound("workspace \"analytics\" not found in acme/prod")) {
                _ = try await store.deleteWorkspace(tenant: "acme", environment: "prod", name: "analytics", precondition: .generation(2))
            }
        }
    }

    @Test(arguments: kinds) func statusAndAlertBatches(_ kind: TestStoreKind) async throws {
        try await with(kind) { store in
            _ = try await store.createTenant(TenantRequest(name: "acme"), at: now)
            _ = try await store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: now)
            _ = try await store.applyWorkspace(
                tenant: "acme", environment: "prod", name: "analytics", spec: spec("1"), components: [try component("mcp", "1")],
                resolvedFor: EnvironmentSettings(), at: now)
            let facts = AgentFacts(
                instance: "agent-1", version: "1.0", certificateExpiry: nil, rulesLoaded: 3, metricsStoreReachable: true,
                desiredRevision: 7)
            let report = StatusReport(
                agent: facts,
                workspaces: [
                    WorkspaceStatus(name: "analytics", observedGeneration: 1, conditions: [], components: []),
                    WorkspaceStatus(name: "gone", observedGeneration: 1, conditions: [], components: []),
                ])
            try await store.recordStatus(tenant: "acme", environment: "prod", report: report, at: now)
            let environment = try #require(try await store.environment(tenant: "acme", name: "prod"))
            #expect(environment.agent == facts && environment.agentLastSeen == now)
            #expect(try await store.workspace(tenant: "acme", environment: "prod", name: "analytics")?.status?.observedGeneration == 1)
            await expectError(.notFound("environment \"nope\" not found in tenant \"acme\"")) {
                try await store.recordStatus(tenant: "acme", environment: "nope", report: report, at: now)
            }

            let alert = AgentAlert(
                workspace: "analytics", state: .firing, labels: ["alertname": "Down"], annotations: ["summary": "down"],
                startsAt: now, value: 1.5)
            let batch = AlertBatch(instance: "agent-1", sequence: 1, alerts: [alert])
            #expect(try await store.recordAlertBatch(tenant: "acme", environment: "prod", batch: batch, at: now, assign: { _ in [] }))
            #expect(
                try await store.recordAlertBatch(tenant: "acme", environment: "prod", batch: batch, at: now, assign: { _ in [] }) == false,
                "the same (instance, sequence) is a duplicate")
            var resolved = alert
            resolved.state = .resolved
            resolved.endsAt = now.addingTimeInterval(60)
            #expect(
                try await store.recordAlertBatch(
                    tenant: "acme", environment: "prod", batch: AlertBatch(instance: "agent-1", sequence: 2, alerts: [resolved]),
                    at: now.addingTimeInterval(60), assign: { _ in [] }))
            let stored = try await store.alerts(AlertFilter(tenant: "acme"))
            #expect(stored.count == 1)
            #expect(stored.first?.state == .resolved && stored.first?.endsAt == now.addingTimeInterval(60) && stored.first?.value == 1.5)
            #expect(stored.first?.labels == ["alertname": "Down"] && stored.first?.annotations == ["summary": "down"])
            #expect(try await store.alerts(AlertFilter(state: .firing)).isEmpty)
            #expect(try await store.alerts(AlertFilter(tenant: "acme", environment: "prod", state: .resolved)).count == 1)
            #expect(try await store.alerts(AlertFilter(environment: "dev")).isEmpty)
            await expectError(.notFound("environment \"nope\" not found in tenant \"acme\"")) {
                _ = try await store.recordAlertBatch(tenant: "acme", environment: "nope", batch: batch, at: now, assign: { _ in [] })
            }
        }
    }

    @Test(arguments: kinds) func apiTokens(_ kind: TestStoreKind) async throws {
        try await with(kind) { store in
            _ = try await store.createTenant(TenantRequest(name: "acme"), at: now)
            let token = APIToken(id: "t1", name: "ci", role: .operator, tenant: "acme", createdAt: now, createdBy: "admin", revokedAt: nil)
            try await store.createToken(token, hash: "hash-1")
            await expectError(.conflict("a live token named \"ci\" exists; revoke it first or pick another name")) {
                try await store.createToken(
                    APIToken(id: "t2", name: "ci", role: .viewer, tenant: nil, createdAt: now, createdBy: "admin", revokedAt: nil),
                    hash: "hash-2")
            }
            await expectError(.notFound("tenant \"nope\" not found")) {
                try await store.createToken(
                    APIToken(
                        id: "t3", name: "other", role: .viewer, tenant: "nope", createdAt: now, createdBy: "admin",
                        revokedAt: nil), hash: "hash-3")
            }
            #expect(try await store.token(hash: "hash-1")?.id == "t1")
            #expect(try await store.token(hash: "hash-1")?.role == .operator)
            let revoked = try await store.revokeToken(id: "t1", at: now.addingTimeInterval(1))
            #expect(revoked.revokedAt == now.addingTimeInterval(1))
            #expect(try await store.revokeToken(id: "t1", at: now.addingTimeInterval(9)).revokedAt == now.addingTimeInterval(1), "revoked once")
            #expect(try await store.token(hash: "hash-1") == nil)
            await expectError(.notFound("token \"nope\" not found")) { _ = try await store.revokeToken(id: "nope", at: now) }
            try await store.createToken(
                APIToken(
                    id: "t4", name: "ci", role: .viewer, tenant: nil, createdAt: now.addingTimeInterval(2), createdBy: "admin",
                    revokedAt: nil), hash: "hash-4")
            #expect(try await store.tokens().map(\.id) == ["t1", "t4"])
        }
    }

    @Test(arguments: kinds) func identityAndRevocation(_ kind: TestStoreKind) async throws {
        try await with(kind) { store in
            _ = try await store.createTenant(TenantRequest(name: "acme"), at: now)
            _ = try await store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: now)
            await expectError(.notFound("environment \"dev\" not found in tenant \"acme\"")) {
                try await store.createEnrollmentToken(tenant: "acme", environment: "dev", tokenHash: "x", expiresAt: now, at: now)
            }
            try await store.createEnrollmentToken(tenant: "acme", environment: "prod", tokenHash: "e1", expiresAt: now.addingTimeInterval(60), at: now)
            try await store.createEnrollmentToken(tenant: "acme", environment: "prod", tokenHash: "e2", expiresAt: now.addingTimeInterval(60), at: now)
            #expect(try await store.consumeEnrollmentToken(tokenHash: "nope", tenant: "acme", environment: "prod", at: now) == .unknown)
            #expect(try await store.consumeEnrollmentToken(tokenHash: "e1", tenant: "acme", environment: "dev", at: now) == .otherEnvironment)
            #expect(try await store.consumeEnrollmentToken(tokenHash: "e1", tenant: "acme", environment: "prod", at: now) == .valid)
            #expect(try await store.consumeEnrollmentToken(tokenHash: "e1", tenant: "acme", environment: "prod", at: now) == .alreadyUsed)
            #expect(try await store.consumeEnrollmentToken(tokenHash: "e2", tenant: "acme", environment: "prod", at: now.addingTimeInterval(60)) == .expired)

            let certificate = AgentCertificate(
                serial: "01ab", tenant: "acme", environment: "prod", method: "token", notBefore: now,
                notAfter: now.addingTimeInterval(86400), revokedAt: nil)
            try await store.recordCertificate(certificate, at: now)
            #expect(try await store.certificates(tenant: "acme", environment: "prod") == [certificate])
            #expect(try await store.revocation(serial: "01ab", tenant: "acme", environment: "prod", notBefore: now) == nil)
            let revoked = try await store.revokeCertificate(serial: "01ab", at: now.addingTimeInterval(10))
            #expect(revoked.revokedAt == now.addingTimeInterval(10))
            #expect(
                try await store.revocation(serial: "01ab", tenant: "acme", environment: "prod", notBefore: now)
                    == "certificate 01ab was revoked at \(Timestamp.format(now.addingTimeInterval(10)))")
            await expectError(.notFound("no certificate with serial ff was issued by this controller")) {
                _ = try await store.revokeCertificate(serial: "ff", at: now)
            }

            // Certificates made elsewhere are caught by an environment revocation, by age.
            #expect(try await store.revocation(serial: "dev-1", tenant: "acme", environment: "prod", notBefore: now) == nil)
            try await store.revokeEnvironment(tenant: "acme", environment: "prod", at: now.addingTimeInterval(20))
            #expect(
                try await store.revocation(serial: "dev-1", tenant: "acme", environment: "prod", notBefore: now)
                    == "environment acme/prod was revoked at \(Timestamp.format(now.addingTimeInterval(20))); enroll again")
            #expect(try await store.revocation(serial: "dev-2", tenant: "acme", environment: "prod", notBefore: now.addingTimeInterval(21)) == nil)
            await expectError(.notFound("environment \"dev\" not found in tenant \"acme\"")) {
                try await store.revokeEnvironment(tenant: "acme", environment: "dev", at: now)
            }

            let trust = ServiceAccountTrust(issuer: "https://oidc.example", jwks: ["keys": []], namespace: "qbeast", serviceAccount: "agent")
            try await store.setServiceAccountTrust(tenant: "acme", environment: "prod", trust, at: now)
            #expect(try await store.serviceAccountTrust(tenant: "acme", environment: "prod") == trust)
            try await store.setServiceAccountTrust(tenant: "acme", environment: "prod", nil, at: now)
            #expect(try await store.serviceAccountTrust(tenant: "acme", environment: "prod") == nil)
            await expectError(.notFound("environment \"dev\" not found in tenant \"acme\"")) {
                try await store.setServiceAccountTrust(tenant: "acme", environment: "dev", trust, at: now)
            }

            for index in 1...3 {
                try await store.audit(
                    AuditEntry(
                        at: now, actor: "admin", action: "test.\(index)", target: "acme", result: "ok",
                        address: index == 1 ? "127.0.0.1" : nil))
            }
            let records = try await store.auditRecords(limit: 2, before: nil)
            #expect(records.map(\.action) == ["test.3", "test.2"])
            #expect(try await store.auditRecords(limit: 10, before: records.last?.id).map(\.action) == ["test.1"])
            #expect(try await store.auditRecords(limit: 10, before: records.last?.id).first?.address == "127.0.0.1")
        }
    }

    @Test(arguments: kinds) func silences(_ kind: TestStoreKind) async throws {
        try await with(kind) { store in
            let silence = Silence(
                id: "s1", matchers: ["alertname=Down"], startsAt: now, endsAt: now.addingTimeInterval(3600), createdBy: "admin",
                comment: "maintenance", createdAt: now, state: .active)
            try await store.createSilence(silence)
            #expect(try await store.silences(at: now.addingTimeInterval(1)).map(\.state) == [.active])
            let expired = try await store.expireSilence(id: "s1", at: now.addingTimeInterval(10))
            #expect(expired.state == .expired && expired.endsAt == now.addingTimeInterval(10))
            await expectError(.conflict("silence \"s1\" has already expired")) { _ = try await store.expireSilence(id: "s1", at: now.addingTimeInterval(11)) }
            await expectError(.notFound("silence \"nope\" not found")) { _ = try await store.expireSilence(id: "nope", at: now) }
        }
    }
}
