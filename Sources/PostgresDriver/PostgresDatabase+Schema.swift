import SQLStorage

extension PostgresDatabase {
    /// The schema of the current schema (namespace) as PostgreSQL's catalogs report it, without the
    /// migrations' own bookkeeping table.
    public func describeSchema() async throws -> SchemaDescription {
        try await read { db in
            var tables: [String: SchemaDescription.Table] = [:]
            for row in try await db.rows(
                """
                SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'
                """)
            {
                let kinds = [
                    "double precision": "real", "real": "real", "bigint": "integer", "integer": "integer", "smallint": "integer", "boolean": "boolean",
                ]
                tables[try row.get("table_name"), default: .init()].columns[try row.get("column_name")] = .init(
                    kind: kinds[try row.get("data_type", as: String.self)] ?? "text", notNull: try row.get("is_nullable", as: String.self) == "NO",
                    defaultValue: Self.normalizedDefault(try row.get("column_default", as: String?.self)))
            }
            let columnsOf: (String, String) -> SQL = { keys, table in
                """
                array_to_string(ARRAY(SELECT a.attname FROM unnest(\(raw: keys)) WITH ORDINALITY k(n, o)
                  JOIN pg_attribute a ON a.attrelid = \(raw: table) AND a.attnum = k.n ORDER BY k.o), ',')
                """
            }
            for row in try await db.rows(
                """
                SELECT c.contype::text AS type, t.relname AS table_name, \(columnsOf("c.conkey", "c.conrelid")) AS columns,
                       r.relname AS referenced, \(columnsOf("c.confkey", "c.confrelid")) AS referenced_columns, c.confdeltype::text AS on_delete
                FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
                LEFT JOIN pg_class r ON r.oid = c.confrelid
                WHERE n.nspname = current_schema() AND c.contype IN ('p', 'u', 'f') AND t.relname <> 'schema_migrations'
                """)
            {
                let table = try row.get("table_name", as: String.self)
                let columns = try row.get("columns", as: String.self).split(separator: ",").map(String.init)
                switch try row.get("type", as: String.self) {
                case "p": tables[table, default: .init()].primaryKey = columns
                case "u": tables[table, default: .init()].unique.insert(columns)
                default:
                    let onDelete = ["c": "cascade", "a": "no action", "r": "restrict", "n": "set null", "d": "set default"]
                    tables[table, default: .init()].foreignKeys.insert(
                        .init(
                            columns: columns, table: try row.get("referenced"),
                            referencedColumns: try row.get("referenced_columns", as: String.self).split(separator: ",").map(String.init),
                            onDelete: onDelete[try row.get("on_delete", as: String.self)] ?? "?"))
                }
            }
            for row in try await db.rows(
                """
                SELECT i.relname AS index_name, t.relname AS table_name, \(columnsOf("ix.indkey::int2[]", "t.oid")) AS columns
                FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
                JOIN pg_namespace n ON n.oid = t.relnamespace
                WHERE n.nspname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)
                """)
            {
                tables[try row.get("table_name"), default: .init()].indexes[try row.get("index_name")] =
                    try row.get("columns", as: String.self).split(separator: ",").map(String.init)
            }
            return SchemaDescription(tables: tables)
        }
    }

    /// `'[]'::text` → `'[]'`, `nextval(…)` → `generated`.
    static func normalizedDefault(_ text: String?) -> String? {
        guard let text else { return nil }
        if text.hasPrefix("nextval(") { return "generated" }
        if let cast = text.range(of: "::", options: .backwards), text.hasPrefix("'") { return String(text[..<cast.lowerBound]) }
        return text
    }
}
