import Agent
import Foundation
import Logging
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@Suite struct AlertOutboxTests {
    let logger = Logger(label: "test")

    func alert(_ name: String) -> AgentAlert {
        AgentAlert(workspace: "w", state: .firing, labels: ["alertname": name], annotations: [:], startsAt: Date(timeIntervalSince1970: 1_800_000_000))
    }

    @Test func batchesSurviveARestartInOrder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outbox = try AlertOutbox(directory: directory.url, instance: "i", maxBatches: 100, logger: logger)
        #expect(try await outbox.enqueue([alert("A")]) == 1)
        #expect(try await outbox.enqueue([alert("B")]) == 2)

        let reopened = try AlertOutbox(directory: directory.url, instance: "i", maxBatches: 100, logger: logger)
        #expect(await reopened.count == 2)
        let head = try #require(try await reopened.head())
        #expect(head.sequence == 1)
        #expect(head.alerts == [alert("A")])
        try await reopened.acknowledge(head)
        #expect(try await reopened.head()?.sequence == 2)
    }

    @Test func sequenceNumbersAreNeverReused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outbox = try AlertOutbox(directory: directory.url, instance: "i", maxBatches: 100, logger: logger)
        try await outbox.enqueue([alert("A")])
        try await outbox.acknowledge(try #require(try await outbox.head()))
        #expect(await outbox.count == 0)
        // Empty after delivery, then restarted: the next batch must not reuse sequence 1,
        // or the controller would discard it as a duplicate.
        let reopened = try AlertOutbox(directory: directory.url, instance: "i", maxBatches: 100, logger: logger)
        #expect(try await reopened.enqueue([alert("B")]) == 2)
    }

    @Test func fullOutboxDropsOldestAndReportsTheDrop() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outbox = try AlertOutbox(directory: directory.url, instance: "i", maxBatches: 2, logger: logger)
        for name in ["A", "B", "C", "D"] { try await outbox.enqueue([alert(name)]) }
        #expect(await outbox.count == 2)
        let head = try #require(try await outbox.head())
        #expect(head.sequence == 3)
        #expect(head.droppedBatches == 2)
        try await outbox.acknowledge(head)
        // Reported once; the next batch carries no drop count.
        #expect(try await outbox.head()?.droppedBatches == nil)
    }

    @Test func unreadableBatchIsSetAsideNotFatal() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outbox = try AlertOutbox(directory: directory.url, instance: "i", maxBatches: 10, logger: logger)
        try await outbox.enqueue([alert("A")])
        try await outbox.enqueue([alert("B")])
        try Data("{garbage".utf8).write(to: directory.url.appendingPathComponent(String(format: "%020lld.json", 1)))
        let reopened = try AlertOutbox(directory: directory.url, instance: "i", maxBatches: 10, logger: logger)
        #expect(try await reopened.head()?.sequence == 2)
        #expect(FileManager.default.fileExists(atPath: directory.path("unreadable/1.json")))
    }
}

@Suite struct RetryPolicyTests {
    @Test func backoffGrowsIsCappedAndJittered() {
        let policy = RetryPolicy(initial: .milliseconds(500), maximum: .seconds(60))
        #expect(policy.delay(attempt: 0, random: 0) == .milliseconds(250))
        #expect(policy.delay(attempt: 0, random: 0.999_999) < .milliseconds(500))
        #expect(policy.delay(attempt: 3, random: 0) == .seconds(2))
        #expect(policy.delay(attempt: 30, random: 0) == .seconds(30))
        #expect(policy.delay(attempt: 30, random: 0.999_999) <= .seconds(60))
    }
}
