import Foundation

/// JSON coding shared by both planes: ISO-8601 dates, sorted keys (stable hashes and diffs), and
/// decoding that refuses fields the closed schema does not have.
public enum StrictJSON {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not an RFC 3339 timestamp")
            }
            return date
        }
        return decoder
    }

    public static func encode(_ value: some Encodable) throws -> Data {
        try encoder().encode(value)
    }

    /// Decodes an answer from the other plane: open to fields a newer peer adds, but never to a key
    /// given twice or absurd nesting (`JSONKeyCheck`), so what is acted on is what every parser reads.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONKeyCheck.check(data)
        return try decoder().decode(T.self, from: data)
    }

    /// Decodes `type` and refuses any object key the type would not write back. Codable silently
    /// ignores unknown keys; for a closed schema a typo must be an error, not a lost setting.
    public static func decodeClosed<T: Codable>(_ type: T.Type, from data: Data) throws(ValidationError) -> T {
        try JSONKeyCheck.check(data)
        if T.self is any ClosedDecodable.Type {
            do {
                return try decoder().decode(T.self, from: data)
            } catch let error as UnknownField {
                throw ValidationError(field: error.path, reason: "unknown field")
            } catch {
                throw ValidationError(field: "", reason: describe(error))
            }
        }
        let value: T
        // Plain JSONSerialization trees for the key comparison: several times faster than Codable here.
        let raw: Any
        do {
            raw = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw ValidationError(field: "", reason: "body is not valid JSON: \(describe(error))")
        }
        do {
            value = try decoder().decode(T.self, from: data)
        } catch {
            throw ValidationError(field: "", reason: describe(error))
        }
        let known: Any
        do {
            known = try JSONSerialization.jsonObject(with: encoder().encode(value), options: [.fragmentsAllowed])
        } catch {
            throw ValidationError(field: "", reason: "cannot re-encode body: \(error)")
        }
        if let path = firstUnknownKey(in: raw, known: known, path: "") {
            throw ValidationError(field: path, reason: "unknown field")
        }
        return value
    }

    static func firstUnknownKey(in raw: Any, known: Any, path: String) -> String? {
        if let rawFields = raw as? [String: Any], let knownFields = known as? [String: Any] {
            for key in rawFields.keys.sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                guard let knownChild = knownFields[key] else {
                    // An explicit null for an optional field that was left out on re-encoding is harmless.
                    if rawFields[key] is NSNull { continue }
                    return child
                }
                if let found = firstUnknownKey(in: rawFields[key]!, known: knownChild, path: child) { return found }
            }
        } else if let rawItems = raw as? [Any], let knownItems = known as? [Any] {
            for (index, item) in rawItems.enumerated() where index < knownItems.count {
                if let found = firstUnknownKey(in: item, known: knownItems[index], path: "\(path)[\(index)]") { return found }
            }
        }
        return nil
    }

    /// Turns Foundation's decoding errors into one line a person can act on.
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }
                .joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return "\(field): required field is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(typeName(type)), found null"
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            let reason = (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
            return field.isEmpty ? "malformed JSON: \(reason)" : "\(field): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is UInt64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : (String(describing: type).hasPrefix("Dictionary") ? "an object" : "\(type)")
        }
    }
}

/// RFC 3339 timestamps in UTC with milliseconds, as Kubernetes and Prometheus write them.
public enum Timestamp {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let withoutFraction = Date.ISO8601FormatStyle()

    public static func format(_ date: Date) -> String { withFraction.format(date) }

    public static func parse(_ text: String) -> Date? {
        (try? withFraction.parse(text)) ?? (try? withoutFraction.parse(text))
    }
}
