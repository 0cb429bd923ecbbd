import Controller
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Delivery: retries with backoff, Retry-After, Slack's one message per second per channel, refusals,
/// and what Slack receives.
@Suite struct NotificationDeliveryTests {
    static let slackRoutes = """
        receiver: slack
        group_wait: 0s
        group_interval: 1m
        repeat_interval: 15m
        """

    @Test(arguments: TestStoreKind.allCases) func serverErrorsAreRetriedWithBackoffUntilAccepted(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: "receiver: hook\ngroup_wait: 0s", store: kind)
        defer { Task { try? await h.stop() } }
        h.receiver.script([.init(status: 500, body: "boom"), .init(status: 503)])
        try await h.send([h.firing("BackendDown")])
        try await h.step()
        #expect(h.hook.isEmpty)
        var record = try #require(try await h.store.notifications(groupID: nil, limit: 10).first)
        #expect(record.state == .pending && record.attempts == 1 && record.lastError == "HTTP 500: boom")
        try await h.step(by: .milliseconds(900))
        #expect(try await h.store.notifications(groupID: nil, limit: 10).first?.attempts == 1, "first retry after 1 s, not before")
        try await h.step(by: .milliseconds(100))
        #expect(try await h.store.notifications(groupID: nil, limit: 10).first?.attempts == 2)
        try await h.step(by: .seconds(2))
        record = try #require(try await h.store.notifications(groupID: nil, limit: 10).first)
        #expect(record.state == .sent && record.attempts == 3)
        #expect(h.hook.count == 1)
    }

    @Test(arguments: TestStoreKind.allCases) func tooManyRequestsWaitsForRetryAfter(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.slackRoutes, store: kind)
        defer { Task { try? await h.stop() } }
        h.receiver.script([.init(status: 429, headers: ["Retry-After": "7"], body: "rate_limited")])
        try await h.send([h.firing("BackendDown")])
        try await h.step()
        try await h.step(by: .seconds(6))
        #expect(h.slack.isEmpty, "Retry-After: 7 is honoured")
        try await h.step(by: .seconds(1))
        #expect(h.slack.count == 1)
    }

    @Test(arguments: TestStoreKind.allCases) func slackMessagesToOneChannelAreASecondApart(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.slackRoutes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([h.firing("A"), h.firing("B"), h.firing("C")])
        try await h.step()
        #expect(h.slack.count == 1)
        try await h.step(by: .milliseconds(500))
        #expect(h.slack.count == 1)
        try await h.step(by: .milliseconds(500))
        #expect(h.slack.count == 2)
        try await h.step(by: .seconds(1))
        #expect(h.slack.count == 3)
        let records = try await h.store.notifications(groupID: nil, limit: 10)
        #expect(records.allSatisfy { $0.state == .sent && $0.attempts == 1 }, "waiting for the channel is not a failed attempt")
    }

    @Test(arguments: TestStoreKind.allCases) func aClientErrorIsRecordedAsFailedWithoutRetry(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.slackRoutes, store: kind)
        defer { Task { try? await h.stop() } }
        h.receiver.script([.init(status: 404, body: "no_service")])
        try await h.send([h.firing("A")])
        try await h.step()
        try await h.run(5, every: .seconds(10))
        let record = try #require(try await h.store.notifications(groupID: nil, limit: 10).first)
        #expect(record.state == .failed && record.lastError == "HTTP 404: no_service" && record.attempts == 1)
        #expect(h.slack.isEmpty)
    }

    @Test(arguments: TestStoreKind.allCases) func slackGetsABlockKitMessageWithAnAcknowledgeButton(_ kind: TestStoreKind) async throws {
        let h = try await AlertingHarness.start(routes: Self.slackRoutes, store: kind)
        defer { Task { try? await h.stop() } }
        try await h.send([
            h.firing("BackendDown", summary: "Backend <prod> is down & out", extra: ["instance": "a"]),
            h.firing("BackendDown", summary: "also b", extra: ["instance": "b"]),
        ])
        try await h.step()
        let message = try #require(h.slack.first)
        let received = try #require(h.receiver.received.first)
        #expect(received.contentType == "application/json")
        #expect(message["text"] == "[FIRING:2] CRITICAL BackendDown acme/prod")
        let blocks = try #require(message["blocks"]?.arrayValue)
        #expect(blocks.map { $0["type"]?.stringValue ?? "" } == ["header", "section", "section", "context", "actions"])
        #expect(blocks[0]["text"]?["text"] == "🔴 CRITICAL: BackendDown — acme/prod")
        let fields = blocks[1]["fields"]?.arrayValue?.compactMap { $0["text"]?.stringValue } ?? []
        #expect(fields.contains("*Tenant*\nacme") && fields.contains("*Environment*\nprod") && fields.contains("*Workspace*\nanalytics"))
        #expect(fields.contains("*Alerts*\n2 firing, 0 resolved") && fields.contains("*Severity*\ncritical"))
        #expect(fields.contains { $0.hasPrefix("*Since*\n<!date^\(Int(h.clock.now().timeIntervalSince1970))^") })
        let text = blocks[2]["text"]?["text"]?.stringValue ?? ""
        #expect(text.contains(">Backend &lt;prod&gt; is down &amp; out"), "mrkdwn special characters are escaped")
        #expect(text.contains("🔥 *BackendDown* `instance=a`"), "labels beyond those in the fields")
        #expect(blocks[3]["elements"]?[0]?["text"]?.stringValue?.hasPrefix("Repeats every 15m until acknowledged") == true)
        let button = try #require(blocks[4]["elements"]?[0])
        let group = try #require(try await h.groups().first)
        #expect(button["action_id"] == "qbeast_ack" && button["value"] == .string(group.id) && button["text"]?["text"] == "Acknowledge")

        _ = try await h.store.setAcknowledgement(groupID: group.id, Acknowledgement(by: "alice", at: h.clock.now(), via: "slack"), at: h.clock.now())
        try await h.send([h.firing("BackendDown", extra: ["instance": "c"])])
        try await h.step(by: .seconds(60))
        let later = try #require(h.slack.last?["blocks"]?.arrayValue)
        #expect(
            later[3]["elements"]?[0]?["text"]?.stringValue?.hasPrefix("Acknowledged by *alice* via slack") == true,
            "who acknowledged is shown in later messages")
    }

    @Test func retryAfterAcceptsSecondsAndHTTPDates() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(NotificationDelivery.parseRetryAfter("30", now: now) == 30)
        let date = "Fri, 15 Jan 2027 08:00:30 GMT"
        let expected = Date(timeIntervalSince1970: 1_800_000_030).timeIntervalSince(now)
        #expect(NotificationDelivery.parseRetryAfter(date, now: now).map { abs($0 - expected) < 1 } == true)
        #expect(NotificationDelivery.parseRetryAfter("soon", now: now) == nil)
        #expect(NotificationDelivery.parseRetryAfter("1e400", now: now) == nil, "not a whole number of seconds")
        #expect(NotificationDelivery.parseRetryAfter("999999999", now: now) == 86_400, "capped at a day")
    }
}
