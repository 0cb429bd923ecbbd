import Controller
import Foundation
import PostgresDriver
import SQLStorage
import Testing

/// `--database` values: which select PostgreSQL, how they parse, and that the password never shows.
@Suite struct PostgresURLTests {
    @Test func parsesAndMasksThePassword() throws {
        let url = try PostgresURL("postgres://qbeast:s%40cret@db.internal:6543/controller?sslmode=disable")
        #expect(url.host == "db.internal" && url.port == 6543 && url.user == "qbeast" && url.password == "s@cret")
        #expect(url.database == "controller" && url.sslMode == "disable")
        #expect(url.description == "postgres://qbeast:***@db.internal:6543/controller?sslmode=disable")
        #expect(!OpenedStore.describe("postgresql://u:hunter2@h/d").contains("hunter2"))
        #expect(try PostgresURL("postgresql://u@h/d").port == 5432)
        #expect(try PostgresURL("postgresql://u@h/d").sslMode == "prefer")
    }

    @Test func anythingElseIsAnSQLitePath() {
        #expect(!PostgresURL.isPostgres("/var/lib/qbeast/controller.sqlite"))
        #expect(!PostgresURL.isPostgres("postgres.sqlite"))
        #expect(OpenedStore.describe(".data/controller.sqlite") == ".data/controller.sqlite")
    }

    @Test func refusesIncompleteURLs() {
        #expect(throws: PostgresURLError.self) { try PostgresURL("postgres://db.internal/controller") }
        #expect(throws: PostgresURLError.self) { try PostgresURL("postgres://u:p@db.internal") }
        #expect(throws: PostgresURLError.self) { try PostgresURL("postgres://u:p@db.internal/d?sslmode=allow") }
    }
}
