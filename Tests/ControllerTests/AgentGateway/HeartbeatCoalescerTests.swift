import ControllerModel
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Controller

/// Unchanged heartbeats are remembered and their times written together; anything new is written at once.
@Suite struct HeartbeatCoalescerTests {
    let key = GatewayCache.Key(tenant: "acme", environment: "prod")
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func report(generation: Int64 = 1) -> StatusReport {
        StatusReport(
            agent: AgentFacts(
                instance: "a", version: "1", certificateExpiry: nil, rulesLoaded: 0, metricsStoreReachable: nil,
                desiredRevision: 3),
            workspaces: [WorkspaceStatus(name: "analytics", observedGeneration: generation, conditions: [], components: [])])
    }

    @Test func onlyWhatChangedIsWrittenAtOnce() {
        let coalescer = HeartbeatCoalescer(rewriteAfter: .seconds(300))
        #expect(coalescer.mustWrite(key, connection: 1, report: report(), at: start), "the first report on a connection")
        coalescer.written(key, connection: 1, report: report(), at: start)
        #expect(!coalescer.mustWrite(key, connection: 1, report: report(), at: start.addingTimeInterval(30)))
        #expect(coalescer.takeSightings() == [AgentSighting(tenant: "acme", environment: "prod", at: start.addingTimeInterval(30))])
        #expect(coalescer.takeSightings().isEmpty, "taken once")

        #expect(coalescer.mustWrite(key, connection: 1, report: report(generation: 2), at: start.addingTimeInterval(60)), "a changed report")
        #expect(coalescer.mustWrite(key, connection: 2, report: report(), at: start.addingTimeInterval(60)), "another connection")
        #expect(coalescer.mustWrite(key, connection: 1, report: report(), at: start.addingTimeInterval(300)), "rewritten once it is old")

        coalescer.written(key, connection: 1, report: report(), at: start.addingTimeInterval(300))
        coalescer.changed(.desiredState(tenant: "acme", environment: "prod", revision: 9))
        #expect(coalescer.mustWrite(key, connection: 1, report: report(), at: start.addingTimeInterval(310)), "the desired state changed")
    }

    @Test func theSameBytesAreKnownWithoutDecoding() {
        let coalescer = HeartbeatCoalescer(rewriteAfter: .seconds(300))
        let body = Data(#"{"agent":{}}"#.utf8)
        #expect(!coalescer.unchangedBody(key, connection: 1, body: body, at: start), "nothing written yet")
        coalescer.written(key, connection: 1, report: report(), body: body, at: start)
        #expect(coalescer.unchangedBody(key, connection: 1, body: body, at: start.addingTimeInterval(30)))
        #expect(coalescer.takeSightings() == [AgentSighting(tenant: "acme", environment: "prod", at: start.addingTimeInterval(30))])

        #expect(!coalescer.unchangedBody(key, connection: 1, body: Data(#"{"agent":{} }"#.utf8), at: start.addingTimeInterval(40)), "other bytes")
        #expect(!coalescer.unchangedBody(key, connection: 2, body: body, at: start.addingTimeInterval(40)), "another connection")
        #expect(!coalescer.unchangedBody(key, connection: 1, body: body, at: start.addingTimeInterval(300)), "rewritten once it is old")
        coalescer.changed(.desiredState(tenant: "acme", environment: "prod", revision: 9))
        #expect(!coalescer.unchangedBody(key, connection: 1, body: body, at: start.addingTimeInterval(60)), "the desired state changed")
    }

    @Test func sightingsThatCouldNotBeWrittenComeBack() {
        let coalescer = HeartbeatCoalescer()
        coalescer.written(key, connection: 1, report: report(), at: start)
        _ = coalescer.mustWrite(key, connection: 1, report: report(), at: start.addingTimeInterval(30))
        let taken = coalescer.takeSightings()
        coalescer.restore(taken)
        #expect(coalescer.takeSightings() == taken)
        _ = coalescer.mustWrite(key, connection: 1, report: report(), at: start.addingTimeInterval(60))
        coalescer.restore(taken)
        #expect(coalescer.takeSightings().map(\.at) == [start.addingTimeInterval(60)], "a newer sighting wins")
    }

    @Test(arguments: TestStoreKind.allCases) func lastSeenMovesForwardOnly(_ kind: TestStoreKind) async throws {
        let opened = try await TestStore.open(kind)
        do {
            try await lastSeen(opened.store)
            await opened.close()
        } catch {
            await opened.close()
            throw error
        }
    }

    func lastSeen(_ store: any ControllerStore) async throws {
        _ = try await store.createTenant(TenantRequest(name: "acme"), at: start)
        _ = try await store.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: start)
        try await store.recordStatus(tenant: "acme", environment: "prod", report: report(), at: start)
        try await store.recordLastSeen([
            AgentSighting(tenant: "acme", environment: "prod", at: start.addingTimeInterval(45)),
            AgentSighting(tenant: "acme", environment: "gone", at: start),
        ])
        #expect(try await store.environment(tenant: "acme", name: "prod")?.agentLastSeen == start.addingTimeInterval(45))
        try await store.recordLastSeen([AgentSighting(tenant: "acme", environment: "prod", at: start.addingTimeInterval(10))])
        #expect(try await store.environment(tenant: "acme", name: "prod")?.agentLastSeen == start.addingTimeInterval(45))
    }
}
