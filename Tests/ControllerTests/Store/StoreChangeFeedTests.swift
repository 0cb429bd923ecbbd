import ControllerModel
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// `followChanges`: every committed write that changes an environment's desired state or revokes its
/// certificates is announced, once, to this process's followers (both kinds) and, through the database,
/// to the other replicas' (PostgreSQL only). Changes are read in order, so "nothing was announced" is
/// shown by the next change being the next real one; no test waits for time to pass.
@Suite struct StoreChangeFeedTests {
    struct FeedEnded: Error {}

    /// Follows `feed` while `body` runs, once its subscription is in place; `body` reads the changes in
    /// the order they arrive.
    static func following(_ feed: any StoreChangeFeed, _ body: (inout AsyncStream<StoreChange>.Iterator) async throws -> Void) async throws {
        let (changes, continuation) = AsyncStream<StoreChange>.makeStream()
        let (listening, listeningContinuation) = AsyncStream<Void>.makeStream()
        let task = Task {
            defer {
                listeningContinuation.finish()
                continuation.finish()
            }
            try await feed.followChanges(listening: { listeningContinuation.yield(()) }) { change in continuation.yield(change) }
        }
        var ready = listening.makeAsyncIterator()
        if await ready.next() == nil {
            try await task.value
            throw FeedEnded()
        }
        var iterator = changes.makeAsyncIterator()
        do {
            try await body(&iterator)
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
        task.cancel()
        _ = await task.result
    }

    @Test(.timeLimit(.minutes(1)), arguments: TestStoreKind.allCases) func everyCommittedChangeIsAnnouncedOnce(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await Self.following(store) { changes in
                let dev = try await store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "dev", cloud: .gcp, mode: .provided), at: t(1))
                var change = await changes.next()
                #expect(change == .desiredState(tenant: "acme", environment: "dev", revision: dev.desiredRevision))

                let applied = try await store.applyWorkspace(
                    tenant: "acme", environment: "prod", name: "search", spec: WorkspaceSpec(), components: [],
                    resolvedFor: EnvironmentSettings(), at: t(2))
                let appliedRevision = try #require(applied.revision)
                change = await changes.next()
                #expect(change == .desiredState(tenant: "acme", environment: "prod", revision: appliedRevision))

                // What changes nothing, what is refused, and what is not the fleet's announce nothing.
                _ = try await store.applyWorkspace(
                    tenant: "acme", environment: "prod", name: "search", spec: WorkspaceSpec(), components: [],
                    resolvedFor: EnvironmentSettings(), at: t(3))
                await expectStoreError(.conflict("the namespace or registry of acme/prod changed while components were being resolved; try again")) {
                    _ = try await store.applyWorkspace(
                        tenant: "acme", environment: "prod", name: "search", spec: WorkspaceSpec(), components: [],
                        resolvedFor: EnvironmentSettings(namespace: "other"), at: t(3))
                }
                await expectStoreError(.notFound("no certificate with serial ff was issued by this controller")) {
                    _ = try await store.revokeCertificate(serial: "ff", at: t(3))
                }
                _ = try await store.updateEnvironmentSettings(
                    tenant: "acme", name: "dev", from: EnvironmentSettings(), to: EnvironmentSettings(),
                    workspaces: [], at: t(3))
                _ = try await store.createTenant(TenantRequest(name: "beta"), at: t(3))
                try await store.recordStatus(
                    tenant: "acme", environment: "prod",
                    report: StatusReport(
                        agent: AgentFacts(instance: "i", version: "1", certificateExpiry: nil, rulesLoaded: 0, metricsStoreReachable: nil, desiredRevision: 1),
                        workspaces: []), at: t(3))

                let settings = try await store.updateEnvironmentSettings(
                    tenant: "acme", name: "dev", from: EnvironmentSettings(),
                    to: EnvironmentSettings(namespace: "data"), workspaces: [], at: t(4))
                let settingsRevision = try #require(settings.revision)
                change = await changes.next()
                #expect(change == .desiredState(tenant: "acme", environment: "dev", revision: settingsRevision))

                let deleted = try await store.deleteWorkspace(tenant: "acme", environment: "prod", name: "search")
                change = await changes.next()
                #expect(change == .desiredState(tenant: "acme", environment: "prod", revision: deleted))

                try await store.recordCertificate(
                    AgentCertificate(
                        serial: "0a", tenant: "acme", environment: "prod", method: "token", notBefore: t(0),
                        notAfter: t(86_400), revokedAt: nil), at: t(5))
                _ = try await store.revokeCertificate(serial: "0a", at: t(6))
                change = await changes.next()
                #expect(change == .revoked(tenant: "acme", environment: "prod"))

                try await store.revokeEnvironment(tenant: "acme", environment: "dev", at: t(7))
                change = await changes.next()
                #expect(change == .revoked(tenant: "acme", environment: "dev"))

                let gone = try await store.deleteEnvironment(tenant: "acme", name: "dev", at: t(8))
                change = await changes.next()
                #expect(change == .desiredState(tenant: "acme", environment: "dev", revision: gone))
                change = await changes.next()
                #expect(change == .revoked(tenant: "acme", environment: "dev"), "held polls of a deleted environment check their caller again")
            }
        }
    }

    /// PostgreSQL only: two replicas on one database. What `a` commits reaches `b`'s followers through
    /// the database; what `b` commits reaches them once (at once, in process), not again through the database.
    @Test(.timeLimit(.minutes(1))) func anotherReplicasChangesArriveThroughTheDatabaseAndOwnOnesOnlyOnce() async throws {
        try await withTwoReplicas { a, b in
            try await Self.following(b) { changes in
                let fromA = try await a.applyWorkspace(
                    tenant: "acme", environment: "prod", name: "search", spec: WorkspaceSpec(), components: [],
                    resolvedFor: EnvironmentSettings(), at: t(1))
                let fromARevision = try #require(fromA.revision)
                var change = await changes.next()
                #expect(change == .desiredState(tenant: "acme", environment: "prod", revision: fromARevision))

                let fromB = try await b.applyWorkspace(
                    tenant: "acme", environment: "prod", name: "lab", spec: WorkspaceSpec(), components: [],
                    resolvedFor: EnvironmentSettings(), at: t(2))
                let fromBRevision = try #require(fromB.revision)
                change = await changes.next()
                #expect(change == .desiredState(tenant: "acme", environment: "prod", revision: fromBRevision))

                // Had b's own change come back through the database, it would be next instead.
                try await a.revokeEnvironment(tenant: "acme", environment: "prod", at: t(3))
                change = await changes.next()
                #expect(change == .revoked(tenant: "acme", environment: "prod"))
            }
        }
    }
}
