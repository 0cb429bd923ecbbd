/// A database's schema in terms both databases share, so the two migration histories can be checked
/// for drift: tables, their columns (kind, nullability, default), primary keys, unique constraints,
/// indexes and foreign keys. Each driver describes its own database (`describeSchema()`).
public struct SchemaDescription: Equatable, Sendable {
    public struct Column: Equatable, Sendable, CustomStringConvertible {
        /// `text`, `real`, `integer` or `boolean`.
        public var kind: String
        public var notNull: Bool
        /// The default as a normalised literal (`0`, `'[]'`), `generated` for a key the database numbers,
        /// or nil.
        public var defaultValue: String?

        public init(kind: String, notNull: Bool, defaultValue: String?) {
            self.kind = kind
            self.notNull = notNull
            self.defaultValue = defaultValue
        }

        public var description: String { "\(kind)\(notNull ? " NOT NULL" : "")\(defaultValue.map { " DEFAULT \($0)" } ?? "")" }
    }

    public struct ForeignKey: Hashable, Sendable, CustomStringConvertible {
        public var columns: [String]
        public var table: String
        public var referencedColumns: [String]
        /// `cascade` or `no action`.
        public var onDelete: String

        public init(columns: [String], table: String, referencedColumns: [String], onDelete: String) {
            self.columns = columns
            self.table = table
            self.referencedColumns = referencedColumns
            self.onDelete = onDelete
        }

        public var description: String { "(\(columns.joined(separator: ", "))) → \(table)(\(referencedColumns.joined(separator: ", "))) ON DELETE \(onDelete)" }
    }

    public struct Table: Equatable, Sendable {
        public var columns: [String: Column] = [:]
        public var primaryKey: [String] = []
        /// Column lists of unique constraints (other than the primary key).
        public var unique: Set<[String]> = []
        /// Indexes created by name: their columns.
        public var indexes: [String: [String]] = [:]
        public var foreignKeys: Set<ForeignKey> = []

        public init() {}
    }

    public var tables: [String: Table]

    public init(tables: [String: Table]) {
        self.tables = tables
    }

    /// Where `other` differs from this schema, one line each; empty when they match.
    public func differences(from other: SchemaDescription, names: (String, String) = ("this", "other")) -> [String] {
        var lines: [String] = []
        for name in Set(tables.keys).union(other.tables.keys).sorted() {
            guard let mine = tables[name] else { lines.append("table \(name): only in \(names.1)"); continue }
            guard let theirs = other.tables[name] else { lines.append("table \(name): only in \(names.0)"); continue }
            for column in Set(mine.columns.keys).union(theirs.columns.keys).sorted() {
                switch (mine.columns[column], theirs.columns[column]) {
                case (nil, _): lines.append("\(name).\(column): only in \(names.1)")
                case (_, nil): lines.append("\(name).\(column): only in \(names.0)")
                case (let a?, let b?) where a != b: lines.append("\(name).\(column): \(a) in \(names.0), \(b) in \(names.1)")
                default: break
                }
            }
            if mine.primaryKey != theirs.primaryKey {
                lines.append(
                    "\(name): primary key (\(mine.primaryKey.joined(separator: ", "))) in \(names.0), (\(theirs.primaryKey.joined(separator: ", "))) in \(names.1)"
                )
            }
            for columns in mine.unique.symmetricDifference(theirs.unique).sorted(by: { $0.joined() < $1.joined() }) {
                lines.append("\(name): unique (\(columns.joined(separator: ", "))) only in \(mine.unique.contains(columns) ? names.0 : names.1)")
            }
            for index in Set(mine.indexes.keys).union(theirs.indexes.keys).sorted() where mine.indexes[index] != theirs.indexes[index] {
                lines.append(
                    "\(name): index \(index) on \(mine.indexes[index].map { "(\($0.joined(separator: ", ")))" } ?? "nothing") in \(names.0), "
                        + "\(theirs.indexes[index].map { "(\($0.joined(separator: ", ")))" } ?? "nothing") in \(names.1)")
            }
            for key in mine.foreignKeys.symmetricDifference(theirs.foreignKeys).sorted(by: { $0.description < $1.description }) {
                lines.append("\(name): foreign key \(key) only in \(mine.foreignKeys.contains(key) ? names.0 : names.1)")
            }
        }
        return lines
    }
}
