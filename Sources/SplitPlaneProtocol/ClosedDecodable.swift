import Foundation

/// A type whose `init(from:)` refuses unknown keys itself (with `StrictJSON.refuseUnknownKeys`), so
/// `StrictJSON.decodeClosed` can skip its generic re-encode-and-compare check. Worth it on hot paths
/// such as alert batches, where that check cost more than the decoding.
public protocol ClosedDecodable: Decodable {}

extension StrictJSON {
    struct UnknownField: Error {
        var path: String
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { self.stringValue = "\(intValue)"; self.intValue = intValue }
    }

    /// Throws for any key of the object being decoded that `keys` does not list (an explicit null is let
    /// through, as `decodeClosed` lets it through).
    public static func refuseUnknownKeys<Keys: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: Keys.Type) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let known = Set(Keys.allCases.map(\.stringValue))
        for key in container.allKeys where !known.contains(key.stringValue) {
            if try container.decodeNil(forKey: key) { continue }
            let path = (decoder.codingPath + [key]).map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            throw UnknownField(path: path.hasPrefix(".") ? String(path.dropFirst()) : path)
        }
    }
}
