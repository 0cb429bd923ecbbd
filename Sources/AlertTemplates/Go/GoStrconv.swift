/// Go's strconv.ParseFloat, including its error messages, which Prometheus' humanize functions
/// pass through ("strconv.ParseFloat: parsing "one": invalid syntax").
enum GoStrconv {
    struct ParseError: Error {
        let message: String
    }

    static func parseFloat(_ text: String) throws(ParseError) -> Double {
        func failure(_ reason: String) -> ParseError {
            ParseError(message: "strconv.ParseFloat: parsing \(GoStrings.quote(text)): \(reason)")
        }
        if let special = special(text) { return special }
        guard isWellFormed(text) else { throw failure("invalid syntax") }
        let cleaned = text.contains("_") ? text.filter { $0 != "_" } : text
        guard let value = Double(cleaned) else { throw failure("invalid syntax") }
        if value.isInfinite { throw failure("value out of range") }
        return value
    }

    /// "inf", "infinity" (either with a sign) and "nan", case-insensitively.
    private static func special(_ text: String) -> Double? {
        var body = Substring(text.lowercased())
        var sign = 1.0
        var signed = false
        if let first = body.first, first == "+" || first == "-" {
            sign = first == "-" ? -1 : 1
            signed = true
            body = body.dropFirst()
        }
        if body == "inf" || body == "infinity" { return sign * .infinity }
        if body == "nan" && !signed { return .nan }
        return nil
    }

    /// Go float literal syntax: decimal with optional exponent, or hex mantissa with a 'p' exponent.
    private static func isWellFormed(_ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        let isHex = bytes.count > 2 && bytes.first == UInt8(ascii: "0") && (bytes.dropFirst().first.map { $0 | 0x20 } == UInt8(ascii: "x"))
        if isHex { bytes = bytes.dropFirst(2) }
        let isDigit: (UInt8) -> Bool = { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                || (isHex && (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20))
        }
        var mantissaDigits = 0
        while let byte = bytes.first, isDigit(byte) {
            if byte != UInt8(ascii: "_") { mantissaDigits += 1 }
            bytes = bytes.dropFirst()
        }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            while let byte = bytes.first, isDigit(byte) {
                if byte != UInt8(ascii: "_") { mantissaDigits += 1 }
                bytes = bytes.dropFirst()
            }
        }
        guard mantissaDigits > 0 else { return false }
        let exponentMark = isHex ? UInt8(ascii: "p") : UInt8(ascii: "e")
        if let byte = bytes.first, byte | 0x20 == exponentMark {
            bytes = bytes.dropFirst()
            if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            var exponentDigits = 0
            while let byte = bytes.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_") {
                if byte != UInt8(ascii: "_") { exponentDigits += 1 }
                bytes = bytes.dropFirst()
            }
            guard exponentDigits > 0 else { return false }
        } else if isHex {
            return false  // Hex floats need a 'p' exponent.
        }
        return bytes.isEmpty && (!text.contains("_") || underscoreOK(text))
    }

    /// Go's rule for digit separators: each underscore sits between digits (or after a base prefix).
    static func underscoreOK(_ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        var saw = UInt8(ascii: "^")
        var hex = false
        if bytes.count >= 2, bytes.first == UInt8(ascii: "0") {
            let prefix = bytes[bytes.startIndex + 1] | 0x20
            if prefix == UInt8(ascii: "b") || prefix == UInt8(ascii: "o") || prefix == UInt8(ascii: "x") {
                bytes = bytes.dropFirst(2)
                saw = UInt8(ascii: "0")
                hex = prefix == UInt8(ascii: "x")
            }
        }
        for byte in bytes {
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (hex && (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)) {
                saw = UInt8(ascii: "0")
            } else if byte == UInt8(ascii: "_") {
                if saw != UInt8(ascii: "0") { return false }
                saw = UInt8(ascii: "_")
            } else {
                if saw == UInt8(ascii: "_") { return false }
                saw = UInt8(ascii: "!")
            }
        }
        return saw != UInt8(ascii: "_")
    }
}
