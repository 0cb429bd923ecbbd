import Foundation
import SQLStorage
import SQLiteDriver
import SplitPlaneTesting
import Testing

/// SQLite writes that arrive together share one transaction (one fsync), each in its own savepoint.
@Suite struct GroupCommitTests {
    struct Refused: Error {}

    @Test func concurrentWritesShareTransactionsAndFailAlone() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try SQLiteDatabase(path: directory.path("group.sqlite"))
        try await database.write { db in try await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, value TEXT NOT NULL)") }
        let before = database.committed

        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for id in 0..<200 {
                group.addTask {
                    do {
                        try await database.write { db in
                            try await db.execute("INSERT INTO t (id, value) VALUES (\(id), \("v\(id)"))")
                            // Every tenth write fails after its insert: only its own row may go.
                            if id % 10 == 0 { throw Refused() }
                        }
                        return (id, true)
                    } catch {
                        return (id, false)
                    }
                }
            }
            var outcomes: [Int: Bool] = [:]
            for await (id, ok) in group { outcomes[id] = ok }
            return outcomes
        }
        #expect(outcomes.count == 200)
        #expect(outcomes.filter { !$0.value }.keys.sorted() == Array(stride(from: 0, to: 200, by: 10)))
        let ids = try await database.read { db in try await db.rows("SELECT id FROM t ORDER BY id").map { try $0.get("id", as: Int.self) } }
        #expect(ids == (0..<200).filter { $0 % 10 != 0 }, "the failed writes' rows are gone, every other row is there")

        let after = database.committed
        let (transactions, writes) = (after.transactions - before.transactions, after.writes - before.writes)
        #expect(writes == 200)
        #expect(transactions < 100, "200 concurrent writes took \(transactions) transactions")
        await database.close()
    }

    @Test func aWriteIsAnsweredOnlyOnceCommitted() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("group.sqlite")
        let database = try SQLiteDatabase(path: path)
        try await database.write { db in try await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)") }
        try await database.write { db in try await db.execute("INSERT INTO t (id) VALUES (1)") }
        // Another connection (another process, as far as SQLite knows) sees it as soon as the write returned.
        let other = try SQLiteDatabase(path: path)
        let count = try await other.read { db in try await db.scalar("SELECT COUNT(*) FROM t", as: Int.self) }
        #expect(count == 1)
        await other.close()
        await database.close()
    }
}
