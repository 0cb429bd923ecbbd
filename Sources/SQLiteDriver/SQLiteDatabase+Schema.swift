import GRDB
import SQLStorage

extension SQLiteDatabase {
    /// The schema as SQLite reports it (`PRAGMA table_info`, `index_list`, `foreign_key_list`).
    public func describeSchema() async throws -> SchemaDescription {
        try await pool.read { db in
            var tables: [String: SchemaDescription.Table] = [:]
            let names = try String.fetchAll(
                db,
                sql: """
                    SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
                    """)
            for name in names {
                var table = SchemaDescription.Table()
                let columns = try Row.fetchAll(db, sql: "SELECT * FROM pragma_table_info(?)", arguments: [name])
                let keyColumns = columns.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }
                table.primaryKey = keyColumns.map { $0["name"] }
                // INTEGER PRIMARY KEY AUTOINCREMENT: the key SQLite numbers itself.
                let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = ?", arguments: [name]) ?? ""
                let generated = keyColumns.count == 1 && sql.uppercased().contains("AUTOINCREMENT") ? keyColumns.first?["name"] as String? : nil
                for column in columns {
                    let columnName: String = column["name"]
                    let type = (column["type"] as String).uppercased()
                    let kind = type.hasPrefix("INT") ? "integer" : type == "REAL" ? "real" : type == "BOOLEAN" ? "boolean" : "text"
                    table.columns[columnName] = .init(
                        kind: kind, notNull: (column["notnull"] as Int) == 1 || (column["pk"] as Int) > 0,
                        defaultValue: columnName == generated ? "generated" : column["dflt_value"])
                }
                for index in try Row.fetchAll(db, sql: "SELECT * FROM pragma_index_list(?)", arguments: [name]) {
                    let indexName: String = index["name"]
                    let indexColumns = try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno", arguments: [indexName])
                    switch index["origin"] as String {
                    case "c": table.indexes[indexName] = indexColumns
                    case "u": table.unique.insert(indexColumns)
                    default: break  // the primary key's own index
                    }
                }
                let keys = try Row.fetchAll(db, sql: "SELECT * FROM pragma_foreign_key_list(?) ORDER BY id, seq", arguments: [name])
                for id in Set(keys.map { $0["id"] as Int }) {
                    let parts = keys.filter { ($0["id"] as Int) == id }
                    table.foreignKeys.insert(
                        .init(
                            columns: parts.map { $0["from"] }, table: parts[0]["table"], referencedColumns: parts.map { $0["to"] },
                            onDelete: (parts[0]["on_delete"] as String).lowercased()))
                }
                tables[name] = table
            }
            return SchemaDescription(tables: tables)
        }
    }
}
