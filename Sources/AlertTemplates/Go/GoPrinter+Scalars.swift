#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How fmt formats strings, integers and floats under each verb and flag.
extension GoPrinter {
    // MARK: Strings

    mutating func formatString(_ text: String, verb: Unicode.Scalar = "s", _ value: Value? = nil) {
        switch verb {
        case "v":
            if sharpV { quoteString(text) } else { pad(truncated(text)) }
        case "s":
            pad(truncated(text))
        case "x", "X":
            hexString(text, uppercase: verb == "X")
        case "q":
            quoteString(text)
        default:
            badVerb(verb, value ?? .string(text))
        }
    }

    private func truncated(_ text: String) -> String {
        guard precisionPresent, text.unicodeScalars.count > precision else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.prefix(precision)))
    }

    private mutating func quoteString(_ text: String) {
        let text = truncated(text)
        if sharp && canBackquote(text) {
            pad("`" + text + "`")
        } else {
            pad(GoStrings.quote(text, asciiOnly: plus))
        }
    }

    private func canBackquote(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            scalar == "\t" || (scalar.value >= 0x20 && scalar != "`" && scalar.value != 0x7F && scalar != "\u{FEFF}")
        }
    }

    /// %x on a string: two hex digits per byte; "% x" separates bytes, "%#x" adds 0x.
    private mutating func hexString(_ text: String, uppercase: Bool) {
        var bytes = Array(text.utf8)
        if precisionPresent && precision < bytes.count { bytes = Array(bytes.prefix(precision)) }
        var encodedWidth = 2 * bytes.count
        guard encodedWidth > 0 else {
            if widthPresent { writePadding(width) }
            return
        }
        if space {
            if sharp { encodedWidth *= 2 }
            encodedWidth += bytes.count - 1
        } else if sharp {
            encodedWidth += 2
        }
        if widthPresent && width > encodedWidth && !minus { writePadding(width - encodedWidth) }
        let prefix = uppercase ? "0X" : "0x"
        if sharp { output += prefix }
        for (index, byte) in bytes.enumerated() {
            if space && index > 0 {
                output += " "
                if sharp { output += prefix }
            }
            output += GoStrings.hex(UInt32(byte), width: 2, uppercase: uppercase)
        }
        if widthPresent && width > encodedWidth && minus { writePadding(width - encodedWidth) }
    }

    // MARK: Integers

    mutating func formatInteger(_ int: Int64, verb: Unicode.Scalar, _ value: Value) {
        switch verb {
        case "v", "d": integer(int, base: 10, verb: verb)
        case "b": integer(int, base: 2, verb: verb)
        case "o", "O": integer(int, base: 8, verb: verb)
        case "x": integer(int, base: 16, verb: verb)
        case "X": integer(int, base: 16, verb: verb, uppercase: true)
        case "c":
            pad(String(Character(Unicode.Scalar(UInt32(clamping: int)) ?? "\u{FFFD}")))
        case "q":
            let scalar = Unicode.Scalar(UInt32(clamping: int))
            if sharp, let scalar, GoStrings.isPrint(scalar) {
                pad("'\(Character(scalar))'")
            } else {
                pad(GoStrings.quoteRune(Int(int), asciiOnly: plus))
            }
        case "U":
            unicodeCodePoint(int)
        default:
            badVerb(verb, value)
        }
    }

    /// fmt's fmtInteger: precision is a minimum digit count, '0' pads after the sign, '#' adds
    /// the base prefix.
    private mutating func integer(_ value: Int64, base: Int, verb: Unicode.Scalar, uppercase: Bool = false) {
        let negative = value < 0
        let magnitude = value.magnitude
        var minimumDigits = 0
        if precisionPresent {
            minimumDigits = precision
            if precision == 0 && magnitude == 0 {
                let savedZero = zero
                zero = false
                writePadding(width)
                zero = savedZero
                return
            }
        } else if zero && widthPresent {
            minimumDigits = width
            if negative || plus || space { minimumDigits -= 1 }  // Room for the sign.
        }
        var digits = String(magnitude, radix: base, uppercase: uppercase)
        if digits.count < minimumDigits { digits = String(repeating: "0", count: minimumDigits - digits.count) + digits }
        if sharp {
            switch base {
            case 2: digits = "0b" + digits
            case 8: if !digits.hasPrefix("0") { digits = "0" + digits }
            case 16: digits = (uppercase ? "0X" : "0x") + digits
            default: break
            }
        }
        if verb == "O" { digits = "0o" + digits }
        if negative {
            digits = "-" + digits
        } else if plus {
            digits = "+" + digits
        } else if space {
            digits = " " + digits
        }
        // Zero padding was handled as precision above.
        let savedZero = zero
        zero = false
        pad(digits)
        zero = savedZero
    }

    private mutating func unicodeCodePoint(_ value: Int64) {
        var hex = String(UInt64(bitPattern: value), radix: 16, uppercase: true)
        let minimum = precisionPresent && precision > 4 ? precision : 4
        if hex.count < minimum { hex = String(repeating: "0", count: minimum - hex.count) + hex }
        var text = "U+" + hex
        if sharp, value >= 0, value <= 0x10FFFF, let scalar = Unicode.Scalar(UInt32(value)), GoStrings.isPrint(scalar) {
            text += " '\(Character(scalar))'"
        }
        let savedZero = zero
        zero = false
        pad(text)
        zero = savedZero
    }

    // MARK: Floats

    mutating func formatFloat(_ float: Double, verb: Unicode.Scalar, _ value: Value) {
        switch verb {
        case "v": float64(float, format: UInt8(ascii: "g"), defaultPrecision: -1)
        case "g", "G", "x", "X", "b": float64(float, format: UInt8(verb.value), defaultPrecision: -1)
        case "e", "E", "f": float64(float, format: UInt8(verb.value), defaultPrecision: 6)
        case "F": float64(float, format: UInt8(ascii: "f"), defaultPrecision: 6)
        default: badVerb(verb, value)
        }
    }

    /// fmt's fmtFloat: sign handling, '#' keeping the decimal point and trailing zeros, and zero
    /// padding after the sign but never for Inf or NaN.
    private mutating func float64(_ value: Double, format: UInt8, defaultPrecision: Int) {
        let digitsPrecision = precisionPresent ? precision : defaultPrecision
        var number = Array(formatted(value, format: format, precision: digitsPrecision).utf8)
        if number.first != UInt8(ascii: "-") && number.first != UInt8(ascii: "+") { number.insert(UInt8(ascii: "+"), at: 0) }
        if space && number[0] == UInt8(ascii: "+") && !plus { number[0] = UInt8(ascii: " ") }
        if number[1] == UInt8(ascii: "I") || number[1] == UInt8(ascii: "N") {
            let savedZero = zero
            zero = false
            if number[1] == UInt8(ascii: "N") && !space && !plus { number.removeFirst() }
            pad(String(decoding: number, as: UTF8.self))
            zero = savedZero
            return
        }
        if sharp && format != UInt8(ascii: "b") {
            number = keepDecimalPoint(number, format: format, precision: digitsPrecision)
        }
        if plus || number[0] != UInt8(ascii: "+") {
            if zero && !minus && widthPresent && width > number.count {
                output.unicodeScalars.append(Unicode.Scalar(number[0]))
                writePadding(width - number.count)
                output += String(decoding: number.dropFirst(), as: UTF8.self)
                return
            }
            pad(String(decoding: number, as: UTF8.self))
            return
        }
        pad(String(decoding: number.dropFirst(), as: UTF8.self))
    }

    private func formatted(_ value: Double, format: UInt8, precision: Int) -> String {
        switch format {
        case UInt8(ascii: "x"), UInt8(ascii: "X"): return hexFloat(value, uppercase: format == UInt8(ascii: "X"), precision: precision)
        case UInt8(ascii: "b"): return binaryFloat(value)
        default: return GoFloat.format(value, format, precision: precision)
        }
    }

    /// The '#' flag: always a decimal point, and %g keeps trailing zeros up to the precision.
    private func keepDecimalPoint(_ number: [UInt8], format: UInt8, precision: Int) -> [UInt8] {
        var digits = 0
        if format == UInt8(ascii: "g") || format == UInt8(ascii: "G") || format == UInt8(ascii: "x") || format == UInt8(ascii: "X") {
            digits = precision == -1 ? 6 : precision
        }
        var body = number
        var tail: [UInt8] = []
        var hasDecimalPoint = false
        var sawNonzeroDigit = false
        var index = 1
        while index < body.count {
            let byte = body[index]
            if byte == UInt8(ascii: ".") {
                hasDecimalPoint = true
            } else if byte == UInt8(ascii: "p") || byte == UInt8(ascii: "P")
                || ((byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")) && format != UInt8(ascii: "x") && format != UInt8(ascii: "X"))
            {
                tail = Array(body[index...])
                body = Array(body[..<index])
                break
            } else {
                if byte != UInt8(ascii: "0") { sawNonzeroDigit = true }
                if sawNonzeroDigit { digits -= 1 }
            }
            index += 1
        }
        if !hasDecimalPoint {
            if body.count == 2 && body[1] == UInt8(ascii: "0") { digits -= 1 }
            body.append(UInt8(ascii: "."))
        }
        while digits > 0 {
            body.append(UInt8(ascii: "0"))
            digits -= 1
        }
        return body + tail
    }

    /// strconv's 'x' format via C's %a, with Go's two-digit minimum exponent.
    private func hexFloat(_ value: Double, uppercase: Bool, precision: Int) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        var buffer = [CChar](repeating: 0, count: 64)
        let format = precision < 0 ? (uppercase ? "%A" : "%a") : (uppercase ? "%.*A" : "%.*a")
        let length =
            precision < 0
            ? withVaList([value]) { vsnprintf(&buffer, buffer.count, format, $0) }
            : withVaList([Int32(clamping: min(precision, 40)), value]) { vsnprintf(&buffer, buffer.count, format, $0) }
        var text = String(decoding: buffer.prefix(Int(max(length, 0))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if let mark = text.lastIndex(where: { $0 == "p" || $0 == "P" }) {
            let signIndex = text.index(after: mark)
            let exponent = text[text.index(after: signIndex)...]
            if exponent.count == 1 { text.insert("0", at: text.index(after: signIndex)) }
        }
        return text
    }

    /// strconv's 'b' format: integer mantissa and binary exponent, "4503599627370496p-52".
    private func binaryFloat(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        var mantissa = value.significandBitPattern
        var exponent = Int(value.exponentBitPattern)
        if exponent == 0 {
            exponent = 1
        } else {
            mantissa |= 1 << 52
        }
        exponent -= 1075
        return (value.sign == .minus ? "-" : "") + String(mantissa) + "p" + (exponent >= 0 ? "+" : "") + String(exponent)
    }
}
