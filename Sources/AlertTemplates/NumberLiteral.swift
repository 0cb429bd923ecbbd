/// A numeric constant as Go's parser reads it: one literal can be an int, a uint and a float
/// at once ("1" is all three); the context it is used in picks the type.
struct NumberLiteral: Sendable {
    let text: String
    private(set) var isInt = false
    private(set) var isUint = false
    private(set) var isFloat = false
    private(set) var int: Int64 = 0
    private(set) var uint: UInt64 = 0
    private(set) var float: Double = 0
    private(set) var isCharConstant = false

    /// Mirrors parse.Tree.newNumber; throws the message Go reports.
    init(text: String, kind: TokenKind) throws(LiteralError) {
        self.text = text
        if kind == .charConstant {
            let rune: Int
            switch GoStrings.unquoteCharConstant(text) {
            case .rune(let value): rune = value
            case .malformed: throw LiteralError(message: "malformed character constant: \(text)")
            case .invalid: throw LiteralError(message: "invalid syntax")
            }
            isCharConstant = true
            (isInt, isUint, isFloat) = (true, true, true)
            (int, uint, float) = (Int64(rune), UInt64(rune), Double(rune))
            return
        }
        if kind == .complex || text.hasSuffix("i") {
            throw LiteralError(message: "complex constants are not supported: \(text)")
        }
        if let unsigned = Self.parseUnsigned(text) {
            (isUint, uint) = (true, unsigned)
        }
        if let signed = Self.parseSigned(text) {
            (isInt, int) = (true, signed)
            if signed == 0 { (isUint, uint) = (true, 0) }  // "-0"
        }
        if isInt {
            (isFloat, float) = (true, Double(int))
        } else if isUint {
            (isFloat, float) = (true, Double(uint))
        } else if let value = try? GoStrconv.parseFloat(text) {
            // Parsed as a float but written like an integer: too large for int64/uint64.
            guard text.contains(where: { ".eEpP".contains($0) }) else {
                throw LiteralError(message: "integer overflow: \(GoStrings.quote(text))")
            }
            (isFloat, float) = (true, value)
            if !isInt, let exact = Int64(exactly: value) { (isInt, int) = (true, exact) }
            if !isUint, let exact = UInt64(exactly: value) { (isUint, uint) = (true, exact) }
        }
        guard isInt || isUint || isFloat else {
            throw LiteralError(message: "illegal number syntax: \(GoStrings.quote(text))")
        }
    }

    /// The value when nothing says which type is wanted (Go's idealConstant): floats when written
    /// like one ("1.0", "1e3"), ints otherwise.
    func idealConstant() throws(LiteralError) -> Value {
        let isHexInt =
            text.count > 2 && text.hasPrefix("0") && (text.dropFirst().first == "x" || text.dropFirst().first == "X")
            && !text.contains(where: { $0 == "p" || $0 == "P" })
        if isFloat && !isHexInt && !isCharConstant && text.contains(where: { ".eEpP".contains($0) }) {
            return .float(float)
        }
        if isInt {
            return .int(Int(int))
        }
        throw LiteralError(message: "\(text) overflows int")
    }

    /// strconv.ParseUint(text, 0, 64): base prefixes, legacy octal, underscores only with base 0 rules.
    static func parseUnsigned(_ text: String) -> UInt64? {
        guard let first = text.first, first != "+" && first != "-" else { return nil }
        return parseMagnitude(text)
    }

    /// strconv.ParseInt(text, 0, 64).
    static func parseSigned(_ text: String) -> Int64? {
        var body = Substring(text)
        var negative = false
        if let first = body.first, first == "+" || first == "-" {
            negative = first == "-"
            body = body.dropFirst()
        }
        guard let magnitude = parseMagnitude(String(body)) else { return nil }
        if negative {
            return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    private static func parseMagnitude(_ text: String) -> UInt64? {
        guard !text.isEmpty, GoStrconv.underscoreOK(text) else { return nil }
        var digits = Substring(text)
        var radix = 10
        let lower = text.lowercased()
        if lower.hasPrefix("0x") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if lower.hasPrefix("0o") {
            radix = 8
            digits = digits.dropFirst(2)
        } else if lower.hasPrefix("0b") {
            radix = 2
            digits = digits.dropFirst(2)
        } else if text.count > 1 && text.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        let cleaned = digits.filter { $0 != "_" }
        guard let first = cleaned.first, first != "+" && first != "-" else { return nil }
        return UInt64(cleaned, radix: radix)
    }
}

struct LiteralError: Error {
    let message: String
}
