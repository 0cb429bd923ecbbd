import AsyncHTTPClient
import Controller
import ControllerModel
import Foundation
import NIOCore
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Slack through its Web API (an app's bot token), and what happens to an attempt whose answer never
/// came back — the replica died between the request and recording it, or the request timed out. A
/// Slack app's channel is asked whether the message is there before anything is posted again; other
/// receivers get it again with the same `Idempotency-Key`.
@Suite struct UnansweredAttemptTests {
    static let appRoutes = """
        receiver: slackapp
        group_wait: 0s
        group_interval: 1m
        repeat_interval: 15m
        """

    @Test(arguments: TestStoreKind.allCases) func slackAppsGetChatPostMessageWithTheDeliveryKeyInTheMetadata(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.appRoutes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("BackendDown", summary: "Backend is down")])
        let pending = try #require(try await h.pendingAfterFlush().first)
        try await h.step()
        let message = try #require(h.slackAPI.messages.first)
        #expect(h.slackAPI.messages.count == 1 && message.channel == "C0TESTCHAN1")
        #expect(message.text.contains("BackendDown") && message.json["blocks"]?.arrayValue?.isEmpty == false)
        #expect(message.metadata?["event_type"]?.stringValue == "qbeast_notification")
        #expect(message.metadata?["event_payload"]?["delivery_key"]?.stringValue == pending.deliveryKey)
        #expect(try await h.store.notifications(groupID: nil, limit: 10).map(\.state) == [.sent])
        #expect(h.slackAPI.historyCalls == 0, "nothing to ask about when the answer came back")
    }

    @Test(arguments: TestStoreKind.allCases) func slackAPIRefusalsFailAndItsTransientErrorsAreRetried(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.appRoutes, store: kind)
        defer { Task { try? await h.stop() } }
        h.slackAPI.script([.error("ratelimited"), .rateLimited(retryAfter: 5), .error("not_in_channel")])
        try await h.send([h.firing("A")])
        try await h.step()
        var record = try #require(try await h.store.notifications(groupID: nil, limit: 10).first)
        #expect(record.state == .pending && record.lastError == "Slack API error: ratelimited")
        try await h.step(by: .seconds(1))
        record = try #require(try await h.store.notifications(groupID: nil, limit: 10).first)
        #expect(record.lastError == "HTTP 429 (rate limited; retry after 5s)")
        try await h.step(by: .seconds(4))
        #expect(try await h.store.notifications(groupID: nil, limit: 10).first?.attempts == 2, "Retry-After: 5 is honoured")
        try await h.step(by: .seconds(1))
        record = try #require(try await h.store.notifications(groupID: nil, limit: 10).first)
        #expect(record.state == .failed && record.lastError == "Slack API error: not_in_channel" && record.attempts == 3)
        #expect(h.slackAPI.messages.isEmpty)
        #expect(h.slackAPI.historyCalls == 0, "answers that say nothing was posted need no lookup")
    }

    @Test(arguments: TestStoreKind.allCases) func anInternalErrorIsLookedUpBeforePostingAgain(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.appRoutes, store: kind)
        defer { Task { try? await h.stop() } }
        // Slack documents internal_error as "some aspect of the operation may have succeeded".
        h.slackAPI.script([.error("internal_error")])
        try await h.send([h.firing("A")])
        try await h.step()
        #expect(try await h.store.notifications(groupID: nil, limit: 10).first?.lastError == "Slack API error: internal_error")
        try await h.step(by: .seconds(1))
        #expect(h.slackAPI.historyCalls == 0 && h.slackAPI.messages.isEmpty, "the lookup waits until the attempt has settled")
        try await h.step(by: .seconds(60))
        #expect(h.slackAPI.historyCalls == 1 && h.slackAPI.messages.count == 1, "not in the channel, so posted")
        #expect(try await h.store.notifications(groupID: nil, limit: 10).map(\.state) == [.sent])
    }

    @Test(arguments: TestStoreKind.allCases) func aTimedOutPostIsLookedUpInsteadOfPostedAgain(_ kind: TestStoreKind) async throws {
        // Real time: the stalled post must time out, and the later lookup must not (2 s is ample on a loaded machine).
        let h = try await AlertingHarness.start(routes: Self.appRoutes, store: kind, requestTimeout: .seconds(2))
        defer { Task { try? await h.stop() } }
        h.slackAPI.script([.postThenStall(seconds: 6)])
        try await h.send([h.firing("BackendDown")])
        try await h.step()
        var record = try #require(try await h.store.notifications(groupID: nil, limit: 10).first)
        #expect(record.state == .pending && record.attempts == 1 && record.lastError?.hasPrefix("request failed") == true)
        #expect(record.unansweredSince == h.clock.now(), "shown to operators as unanswered since the attempt")
        #expect(h.slackAPI.messages.count == 1, "Slack posted it; the answer was lost")
        try await h.step(by: .seconds(1))
        #expect(h.slackAPI.historyCalls == 0, "a request Slack may still be working on is not looked up yet")
        try await h.step(by: .seconds(60))
        record = try #require(try await h.store.notifications(groupID: nil, limit: 10).first)
        #expect(record.state == .sent && record.unansweredSince == nil)
        #expect(h.slackAPI.messages.count == 1, "found in the channel's history, not posted again")
        #expect(h.slackAPI.historyCalls == 1)
    }

    @Test(arguments: TestStoreKind.allCases) func aCrashAfterSlackPostedIsFoundAfterTheTakeOver(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.appRoutes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("BackendDown")])
        // The process claims it, writes down its attempt, Slack posts it, and the process dies.
        let claimed = try await h.beginAttemptAndDie(post: true)
        #expect(h.slackAPI.messages.count == 1)
        try await h.restart()
        try await h.step(by: h.takeOverDelay)
        #expect(try await h.store.notifications(groupID: nil, limit: 10).map(\.state) == [.sent])
        #expect(h.slackAPI.messages.count == 1, "not posted a second time")
        #expect(h.slackAPI.messages[0].metadata?["event_payload"]?["delivery_key"]?.stringValue == claimed.deliveryKey)
        try await h.run(3, every: .seconds(10))
        #expect(h.slackAPI.messages.count == 1)
    }

    @Test(arguments: TestStoreKind.allCases) func aCrashBeforeTheRequestLeftIsPostedOnceAfterTheTakeOver(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.appRoutes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("BackendDown")])
        _ = try await h.beginAttemptAndDie(post: false)
        #expect(try await h.store.notifications(groupID: nil, limit: 10).first?.unansweredSince == h.clock.now())
        try await h.restart()
        try await h.step(by: h.takeOverDelay)
        #expect(h.slackAPI.messages.count == 1 && h.slackAPI.historyCalls == 1)
        #expect(try await h.store.notifications(groupID: nil, limit: 10).map(\.state) == [.sent])
    }

    @Test(arguments: TestStoreKind.allCases) func whenSlackCannotBeAskedNothingIsPostedUntilItCan(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.appRoutes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("BackendDown")])
        _ = try await h.beginAttemptAndDie(post: false)
        try await h.restart()
        h.slackAPI.failHistory([.rateLimited(retryAfter: 5)])
        try await h.step(by: h.takeOverDelay)
        var record = try #require(try await h.store.notifications(groupID: nil, limit: 10).first)
        #expect(record.state == .pending && record.lastError?.contains("cannot ask Slack whether an unanswered attempt was posted") == true)
        #expect(h.slackAPI.messages.isEmpty && h.slackAPI.historyCalls == 1)
        try await h.step(by: .seconds(4))
        #expect(h.slackAPI.historyCalls == 1, "Retry-After: 5 is honoured")
        try await h.step(by: .seconds(1))
        record = try #require(try await h.store.notifications(groupID: nil, limit: 10).first)
        #expect(record.state == .sent && h.slackAPI.messages.count == 1 && h.slackAPI.historyCalls == 2)
    }

    @Test(arguments: TestStoreKind.allCases) func aChannelThatCannotBeSearchedGetsItAgainRatherThanLosingIt(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.appRoutes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("BackendDown")])
        _ = try await h.beginAttemptAndDie(post: true)
        try await h.restart()
        // The app lacks channels:history: no lookup will ever work.
        h.slackAPI.failHistory([.error("missing_scope")])
        try await h.step(by: h.takeOverDelay)
        #expect(h.slackAPI.messages.count == 2, "posted again: at least once when the channel cannot be asked")
        #expect(try await h.store.notifications(groupID: nil, limit: 10).map(\.state) == [.sent])
    }

    @Test(arguments: TestStoreKind.allCases) func webhooksGetTheSameIdempotencyKeyOnEveryAttempt(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: "receiver: hook\ngroup_wait: 0s", store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("BackendDown")])
        let claimed = try await h.beginAttemptAndDie(post: false)
        try await h.restart()
        h.receiver.script([.init(status: 503)])
        try await h.step(by: h.claimTakeOver)
        try await h.step(by: .seconds(1))
        #expect(h.hook.count == 1)
        #expect(h.receiver.idempotencyKeys == [claimed.deliveryKey, claimed.deliveryKey], "the refused attempt and the accepted one")
        #expect(try await h.store.notifications(groupID: nil, limit: 10).map(\.state) == [.sent])
    }
}

extension AlertingHarness {
    /// Flushes due groups and returns what is then due for delivery, handing the claims straight back
    /// (`deferred` to now: no attempt counted), so the next delivery round takes them as if unseen.
    func pendingAfterFlush() async throws -> [PendingNotification] {
        try await dispatcher.flushDue()
        let due = try await store.dueNotifications(at: clock.now(), limit: 10)
        for notification in due { try await store.recordDelivery(id: notification.id, .deferred(until: clock.now()), at: clock.now()) }
        return due
    }

    /// What a process that dies mid-send leaves behind: the notification claimed and its attempt
    /// written down; with `post`, the message already in the Slack channel (sent as the dead process
    /// would have, through Slack's API).
    func beginAttemptAndDie(post: Bool) async throws -> PendingNotification {
        try await dispatcher.flushDue()
        let claimed = try #require(try await store.dueNotifications(at: clock.now(), limit: 10).first)
        #expect(try await store.beginDeliveryAttempt(id: claimed.id, at: clock.now()))
        if post {
            var request = HTTPClientRequest(url: slackAPI.postMessageURL)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(slackAPI.token)")
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            let body: JSONValue = [
                "channel": "C0TESTCHAN1", "text": "posted by the process that died",
                "metadata": ["event_type": "qbeast_notification", "event_payload": ["delivery_key": .string(claimed.deliveryKey)]],
            ]
            request.body = .bytes(ByteBuffer(data: try StrictJSON.encode(body)))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            #expect(response.status == .ok)
        }
        return claimed
    }

    /// How long until an unanswered attempt is looked up: it must have settled (60 s), which also
    /// outlasts a PostgreSQL lease (30 s).
    var takeOverDelay: Duration { .seconds(61) }

    /// How long after its attempt a restarted process may take over what the dead one claimed: at once
    /// on SQLite (one process per file: opening it releases every claim), once the 30 s lease has run
    /// out on PostgreSQL (the claim might be another live replica's).
    var claimTakeOver: Duration { kind == .postgres ? .seconds(30) : .zero }
}
