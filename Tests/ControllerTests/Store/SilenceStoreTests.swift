import ControllerModel
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Silences through the store alone: `createSilence`, `silences(at:)` with each state, `expireSilence`.
/// The same expectations on SQLite and PostgreSQL.
@Suite struct SilenceStoreTests {
    func silence(_ id: String, created: Date, starts: Date, ends: Date, matchers: [String] = ["alertname=Down"]) -> Silence {
        Silence(
            id: id, matchers: matchers, startsAt: starts, endsAt: ends, createdBy: "alice", comment: "maintenance of \(id)", createdAt: created,
            state: .active)
    }

    @Test(arguments: TestStoreKind.allCases) func silencesAreListedNewestFirstWithTheirStateAtTheGivenTime(_ kind: TestStoreKind) async throws {
        try await withStore(kind, seeded: false) { store in
            #expect(try await store.silences(at: t(0)).isEmpty)
            let old = silence("s-old", created: t(0), starts: t(0), ends: t(100), matchers: ["alertname=~Down|Slow", "severity!=info", "team=\"data\""])
            let later = silence("s-b", created: t(10), starts: t(50), ends: t(200))
            let short = silence("s-a", created: t(10), starts: t(10), ends: t(20))
            for silence in [old, later, short] { try await store.createSilence(silence) }

            let listed = try await store.silences(at: t(15))
            #expect(listed.map(\.id) == ["s-a", "s-b", "s-old"], "newest first, then by id")
            #expect(listed.map(\.state) == [.active, .pending, .active])
            var expected = old
            expected.state = .active
            #expect(listed[2] == expected, "every field as created, the matchers in their order")

            #expect(try await store.silences(at: t(20)).map(\.state) == [.expired, .pending, .active], "over at its end")
            #expect(try await store.silences(at: t(50)).map(\.state) == [.expired, .active, .active], "on from its start")
            #expect(try await store.silences(at: t(100)).map(\.state) == [.expired, .active, .expired])
            #expect(try await store.silences(at: t(-1)).map(\.state) == [.pending, .pending, .pending])
        }
    }

    @Test(arguments: TestStoreKind.allCases) func aSecondSilenceWithTheSameIDIsRefused(_ kind: TestStoreKind) async throws {
        try await withStore(kind, seeded: false) { store in
            let first = silence("s1", created: t(0), starts: t(0), ends: t(100))
            try await store.createSilence(first)
            // The database's key refuses it; which error that is differs by driver, so only that one is thrown is checked.
            await #expect(throws: (any Error).self) {
                try await store.createSilence(silence("s1", created: t(5), starts: t(5), ends: t(500), matchers: ["alertname=Other"]))
            }
            #expect(try await store.silences(at: t(1)) == [first])
        }
    }

    @Test(arguments: TestStoreKind.allCases) func expiringEndsASilenceNow(_ kind: TestStoreKind) async throws {
        try await withStore(kind, seeded: false) { store in
            try await store.createSilence(silence("active", created: t(0), starts: t(0), ends: t(100)))
            try await store.createSilence(silence("pending", created: t(1), starts: t(50), ends: t(100)))

            let active = try await store.expireSilence(id: "active", at: t(30))
            #expect(active.state == .expired && active.startsAt == t(0) && active.endsAt == t(30))
            #expect(active.matchers == ["alertname=Down"] && active.createdBy == "alice" && active.createdAt == t(0))
            // Not started yet: it ends before it began, so its start moves to now too.
            let pending = try await store.expireSilence(id: "pending", at: t(30))
            #expect(pending.state == .expired && pending.startsAt == t(30) && pending.endsAt == t(30))

            let listed = try await store.silences(at: t(30))
            #expect(listed.map(\.id) == ["pending", "active"] && listed.map(\.state) == [.expired, .expired])
            #expect(listed == [pending, active], "what expiring returned is what is stored")
            #expect(try await store.silences(at: t(0)).first(where: { $0.id == "active" })?.state == .active, "it was active before")
        }
    }

    @Test(arguments: TestStoreKind.allCases) func onlyAnExistingUnexpiredSilenceCanBeExpired(_ kind: TestStoreKind) async throws {
        try await withStore(kind, seeded: false) { store in
            try await store.createSilence(silence("s1", created: t(0), starts: t(0), ends: t(20)))
            await expectStoreError(.notFound("silence \"nope\" not found")) { _ = try await store.expireSilence(id: "nope", at: t(10)) }
            // Over by itself at its end: nothing left to expire.
            await expectStoreError(.conflict("silence \"s1\" has already expired")) { _ = try await store.expireSilence(id: "s1", at: t(20)) }
            #expect(try await store.silences(at: t(20)).first?.endsAt == t(20), "unchanged")

            _ = try await store.expireSilence(id: "s1", at: t(5))
            await expectStoreError(.conflict("silence \"s1\" has already expired")) { _ = try await store.expireSilence(id: "s1", at: t(6)) }
            #expect(try await store.silences(at: t(6)).first?.endsAt == t(5), "expired once, at the first time")
        }
    }
}
