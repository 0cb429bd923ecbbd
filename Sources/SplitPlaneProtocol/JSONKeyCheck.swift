import Foundation

/// One pass over JSON text, before any decoder sees it, that refuses what decoders disagree on: an
/// object key given twice (Foundation's typed decoder keeps the first, `JSONSerialization` the last),
/// nesting deep enough to threaten the stack of a recursive parser, and U+0000 in a string (SQLite
/// would store it, PostgreSQL refuses it; no name, label or comment needs it). Malformed JSON is left to the
/// decoder that follows, which names the problem better; this pass only has to end on any input.
public enum JSONKeyCheck {
    public static let maxDepth = 128

    public static func check(_ data: Data, maxDepth: Int = maxDepth) throws(ValidationError) {
        var failure: ValidationError?
        data.withUnsafeBytes { buffer in
            var scanner = Scanner(bytes: buffer.bindMemory(to: UInt8.self), maxDepth: maxDepth)
            failure = scanner.run()
        }
        if let failure { throw failure }
    }

    private enum Frame {
        case object(keys: KeySet, expectingKey: Bool)
        case array(index: Int)
    }

    /// The keys seen in one object: a short array for the usual handful, a set once there are many
    /// (a hostile body may carry a hundred thousand keys in one object).
    private struct KeySet {
        private var few: [String] = []
        private var many: Set<String>?
        private(set) var last: String?

        /// False when `key` was already there.
        mutating func insert(_ key: String) -> Bool {
            last = key
            if many != nil { return many!.insert(key).inserted }
            if few.contains(key) { return false }
            few.append(key)
            if few.count > 16 {
                many = Set(few)
                few = []
            }
            return true
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        let maxDepth: Int
        var index = 0
        var stack: [Frame] = []
        /// Set by `readString` when the string held `\u0000`.
        var sawNUL = false

        init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        mutating func run() -> ValidationError? {
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    if stack.count >= maxDepth {
                        return ValidationError(field: path(), reason: "JSON nests deeper than \(maxDepth) levels")
                    }
                    stack.append(byte == UInt8(ascii: "{") ? .object(keys: KeySet(), expectingKey: true) : .array(index: 0))
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if !stack.isEmpty { stack.removeLast() }
                case UInt8(ascii: ","):
                    switch stack.last {
                    case .object(let keys, _)?: stack[stack.count - 1] = .object(keys: keys, expectingKey: true)
                    case .array(let index)?: stack[stack.count - 1] = .array(index: index + 1)
                    case nil: break
                    }
                case UInt8(ascii: ":"):
                    if case .object(let keys, _)? = stack.last { stack[stack.count - 1] = .object(keys: keys, expectingKey: false) }
                case UInt8(ascii: "\""):
                    let string = readString()
                    if sawNUL {
                        return ValidationError(field: path(), reason: "a string contains U+0000 (NUL), which no field accepts")
                    }
                    guard case .object(var keys, true)? = stack.last else { continue }
                    // Swift String equality (canonical equivalence) is what the typed decoder's keys use:
                    // refusing every pair it would merge covers every stricter parser too.
                    // Taken out of the stack while it grows, so the set is not copied.
                    stack[stack.count - 1] = .array(index: 0)
                    if !keys.insert(string) {
                        return ValidationError(field: path(appending: string), reason: "duplicate key \"\(string)\"")
                    }
                    stack[stack.count - 1] = .object(keys: keys, expectingKey: false)
                default:
                    continue
                }
            }
            return nil
        }

        /// Reads a string whose opening quote was just consumed; decodes escapes only when present.
        mutating func readString() -> String {
            let start = index
            var escaped = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    if index + 5 < bytes.count, bytes[index + 1] == UInt8(ascii: "u"), bytes[index + 2] == UInt8(ascii: "0"),
                        bytes[index + 3] == UInt8(ascii: "0"), bytes[index + 4] == UInt8(ascii: "0"), bytes[index + 5] == UInt8(ascii: "0")
                    {
                        sawNUL = true
                    }
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") { break }
                index += 1
            }
            let end = min(index, bytes.count)
            index = end + 1
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<end])
            return escaped ? Self.unescape(raw) : String(decoding: raw, as: UTF8.self)
        }

        static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> String {
            var scalars = String.UnicodeScalarView()
            var utf8: [UInt8] = []
            func flush() {
                if !utf8.isEmpty { scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars); utf8.removeAll() }
            }
            var i = 0
            var pendingHigh: UInt32?
            while i < raw.count {
                let byte = raw[i]
                guard byte == UInt8(ascii: "\\"), i + 1 < raw.count else {
                    utf8.append(byte)
                    i += 1
                    continue
                }
                let next = raw[i + 1]
                i += 2
                switch next {
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    guard i + 4 <= raw.count, let code = UInt32(String(decoding: UnsafeBufferPointer(rebasing: raw[i..<i + 4]), as: UTF8.self), radix: 16)
                    else {
                        continue
                    }
                    i += 4
                    flush()
                    if (0xD800...0xDBFF).contains(code) {
                        pendingHigh = code
                        continue
                    }
                    if (0xDC00...0xDFFF).contains(code), let high = pendingHigh {
                        let combined = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)
                        scalars.append(Unicode.Scalar(combined) ?? "\u{FFFD}")
                    } else {
                        scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                    }
                    pendingHigh = nil
                    continue
                default: utf8.append(next)  // \" \\ \/ and anything else: the character itself
                }
                pendingHigh = nil
            }
            flush()
            return String(scalars)
        }

        func path(appending key: String? = nil) -> String {
            var parts = ""
            for frame in stack.dropLast(key == nil ? 0 : 1) {
                if case .object(let keys, _) = frame, let last = keys.last {
                    parts += parts.isEmpty ? last : ".\(last)"
                } else if case .array(let index) = frame {
                    parts += "[\(index)]"
                }
            }
            if let key { parts += parts.isEmpty ? key : ".\(key)" }
            return parts
        }
    }
}
