import Foundation
import Logging
import PostgresDriver
import SQLStorage
import SQLiteDriver
import SplitPlaneTesting
import Testing

/// The two migration histories (SQLite's and PostgreSQL's) must build the same schema: tables,
/// columns with their kind, nullability and default, primary keys, unique constraints, indexes and
/// foreign keys. (CHECK constraints are not compared: SQLite does not report them.)
@Suite struct SchemaDriftTests {
    /// SQLite has no boolean type; these columns are its integers and PostgreSQL's booleans.
    static let booleans: Set<String> = ["alert_groups.has_flushed"]

    static func withBothSchemas(_ body: (SQLiteDatabase, PostgresDatabase) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sqlite = try SQLiteDatabase(path: directory.path("schema.sqlite"))
        let url = try await TestPostgres.shared().createDatabase()
        let postgres = try PostgresDatabase(
            url: url, logger: Logger(label: "schema-test", factory: { _ in SwiftLogNoOpLogHandler() }),
            maximumConnections: 2)
        try await postgres.start()
        do {
            try await body(sqlite, postgres)
        } catch {
            await postgres.close()
            await TestStoreKind.drop(url.description)
            throw error
        }
        await postgres.close()
        await (try? await TestPostgres.shared())?.dropDatabase(url)
    }

    static func differences(_ sqlite: SQLiteDatabase, _ postgres: PostgresDatabase) async throws -> [String] {
        try await sqlite.describeSchema().booleansAsIntegers(booleans)
            .differences(from: try await postgres.describeSchema(), names: ("SQLite", "PostgreSQL"))
    }

    @Test func bothMigrationHistoriesBuildTheSameSchema() async throws {
        try await Self.withBothSchemas { sqlite, postgres in
            let differences = try await Self.differences(sqlite, postgres)
            #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
            // The comparison sees every table of both.
            let tables = try await sqlite.describeSchema().tables.keys.sorted()
            #expect(tables.contains("notifications") && tables.contains("alert_groups") && tables.count >= 15)
        }
    }

    @Test func aPlantedDifferenceIsFound() async throws {
        try await Self.withBothSchemas { sqlite, postgres in
            try await sqlite.write { db in try await db.execute("ALTER TABLE alerts ADD COLUMN planted TEXT") }
            try await postgres.write { db in try await db.execute("CREATE INDEX planted_index ON silences (created_by)") }
            try await postgres.write { db in try await db.execute("ALTER TABLE tenants ALTER COLUMN display_name SET DEFAULT 'x'") }
            let differences = try await Self.differences(sqlite, postgres)
            #expect(differences.contains("alerts.planted: only in SQLite"), "\(differences)")
            #expect(differences.contains("silences: index planted_index on nothing in SQLite, (created_by) in PostgreSQL"), "\(differences)")
            #expect(differences.contains("tenants.display_name: text in SQLite, text DEFAULT 'x' in PostgreSQL"), "\(differences)")
            var changed = try await sqlite.describeSchema()
            changed.tables["notifications"]?.columns["attempts"]?.kind = "real"
            changed.tables["workspaces"]?.foreignKeys = []
            let more = try await changed.booleansAsIntegers(Self.booleans).differences(from: try await postgres.describeSchema())
            #expect(more.contains { $0.hasPrefix("notifications.attempts: real NOT NULL") }, "\(more)")
            #expect(more.contains { $0.hasPrefix("workspaces: foreign key (tenant, environment) → environments(tenant, name)") }, "\(more)")
        }
    }
}

extension SchemaDescription {
    /// SQLite's integer columns that PostgreSQL declares boolean, described as booleans (0/1 defaults as false/true).
    func booleansAsIntegers(_ columns: Set<String>) -> SchemaDescription {
        var result = self
        for qualified in columns {
            let parts = qualified.split(separator: ".").map(String.init)
            guard parts.count == 2, var column = result.tables[parts[0]]?.columns[parts[1]], column.kind == "integer" else { continue }
            column.kind = "boolean"
            column.defaultValue = column.defaultValue.map { $0 == "0" ? "false" : $0 == "1" ? "true" : $0 }
            result.tables[parts[0]]?.columns[parts[1]] = column
        }
        return result
    }
}
