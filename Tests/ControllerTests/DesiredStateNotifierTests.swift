import Testing

@testable import Controller

/// The notifier's waiter count is kept as waiters come and go (not summed per poll): it must match
/// the waiters actually held after publish, interrupt, cancellation and shutdown.
@Suite struct DesiredStateNotifierTests {
    let a = DesiredStateNotifier.Key(tenant: "acme", environment: "prod")
    let b = DesiredStateNotifier.Key(tenant: "globex", environment: "staging")

    func held(_ notifier: DesiredStateNotifier, _ count: Int) async throws {
        for _ in 0..<500 where await notifier.waiterCount != count { try await Task.sleep(for: .milliseconds(10)) }
        #expect(await notifier.waiterCount == count)
    }

    @Test func countFollowsPublishInterruptCancelAndShutdown() async throws {
        let notifier = DesiredStateNotifier()
        let first = Task { await notifier.wait(a, after: 1) }
        let second = Task { await notifier.wait(a, after: 5) }
        let third = Task { await notifier.wait(b, after: 1) }
        let fourth = Task { await notifier.wait(b, after: 1) }
        try await held(notifier, 4)

        await notifier.publish(a, revision: 2)  // wakes only the waiter behind revision 2
        await first.value
        try await held(notifier, 3)

        await notifier.publish(a, revision: 2)  // nothing left behind 2: no change
        try await held(notifier, 3)

        fourth.cancel()
        await fourth.value
        try await held(notifier, 2)

        await notifier.interrupt(b)
        await third.value
        try await held(notifier, 1)

        await notifier.shutdown()
        await second.value
        #expect(await notifier.waiterCount == 0)
        await notifier.wait(a, after: 100)  // after shutdown: returns at once, not counted
        #expect(await notifier.waiterCount == 0)
    }

    @Test func alreadyPassedRevisionIsNotCounted() async throws {
        let notifier = DesiredStateNotifier()
        await notifier.publish(a, revision: 3)
        await notifier.wait(a, after: 2)
        #expect(await notifier.waiterCount == 0)
    }
}
