import Controller
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// A controller killed between a notification and its repeat: after restart, exactly what was due is sent.
@Suite struct AlertRestartTests {
    static let routes = """
        receiver: hook
        group_wait: 30s
        group_interval: 5m
        repeat_interval: 15m
        """

    @Test(arguments: TestStoreKind.allCases) func aRestartNeitherRepeatsNorForgetsNotifications(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.routes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("BackendDown")])
        try await h.step(by: .seconds(30))
        #expect(h.hook.count == 1)

        try await h.restart()
        try await h.step()
        try await h.run(2, every: .seconds(300))  // 10m30s
        #expect(h.hook.count == 1, "what was sent before the restart is not sent again")
        try await h.step(by: .seconds(300))  // 15m30s: the repeat the old process had scheduled
        #expect(h.hook.count == 2)
        try await h.restart()
        try await h.run(2, every: .seconds(300))
        #expect(h.hook.count == 2)
    }

    @Test(arguments: TestStoreKind.allCases) func aNotificationRecordedButNotSentGoesOutOnceAfterRestart(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.routes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("BackendDown")])
        h.clock.advance(by: .seconds(30))
        try await h.dispatcher.flushDue()  // decided and recorded; the process dies before sending
        #expect(h.hook.isEmpty)

        try await h.restart()
        try await h.step()
        #expect(h.hook.count == 1, "the due notification was not forgotten")
        try await h.run(2, every: .seconds(300))
        #expect(h.hook.count == 1)
        let records = try await h.store.notifications(groupID: nil, limit: 10)
        #expect(records.map(\.state) == [.sent])
    }

    @Test(arguments: TestStoreKind.allCases) func groupTimersSurviveARestart(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.routes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("BackendDown")])
        try await h.step(by: .seconds(10))
        try await h.restart()
        try await h.step(by: .seconds(19))
        #expect(h.hook.isEmpty, "group_wait counts from the alert's arrival, not from the restart")
        try await h.step(by: .seconds(1))
        #expect(h.hook.count == 1)
    }
}
