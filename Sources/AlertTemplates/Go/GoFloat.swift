#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// strconv.FormatFloat(v, fmt, prec, 64) for the 'e', 'E', 'f', 'g' and 'G' formats.
///
/// Digits come from Swift's shortest round-trip `description` (what Go's Ryū finds for prec -1)
/// or from the C library's correctly rounded `%.*e`/`%.*f` (what Go computes for a fixed
/// precision); Go's own rules then decide between exponent and plain notation.
enum GoFloat {
    /// Decimal digits d1 d2 ... dn meaning 0.d1d2...dn × 10^decimalPoint, without trailing zeros.
    /// Zero has no digits.
    struct Digits {
        var digits: [UInt8] = []
        var decimalPoint = 0
    }

    static func format(_ value: Double, _ verb: UInt8, precision: Int) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        let negative = value.sign == .minus
        var precision = precision
        let shortest = precision < 0
        let digits: Digits
        if shortest {
            digits = shortestDigits(value.magnitude)
            switch verb {
            case UInt8(ascii: "e"), UInt8(ascii: "E"): precision = max(digits.digits.count - 1, 0)
            case UInt8(ascii: "f"): precision = max(digits.digits.count - digits.decimalPoint, 0)
            default: precision = digits.digits.count
            }
        } else if verb == UInt8(ascii: "f") {
            return fixedPoint(value, precision: precision)
        } else {
            if (verb == UInt8(ascii: "g") || verb == UInt8(ascii: "G")) && precision == 0 { precision = 1 }
            let count = verb == UInt8(ascii: "e") || verb == UInt8(ascii: "E") ? precision + 1 : precision
            digits = roundedDigits(value.magnitude, significant: count)
        }
        return formatDigits(digits, negative: negative, verb: verb, precision: precision, shortest: shortest)
    }

    private static func formatDigits(_ digits: Digits, negative: Bool, verb: UInt8, precision: Int, shortest: Bool) -> String {
        switch verb {
        case UInt8(ascii: "e"), UInt8(ascii: "E"):
            return exponential(digits, negative: negative, precision: precision, mark: verb)
        case UInt8(ascii: "f"):
            return plain(digits, negative: negative, precision: precision)
        default:
            // %e is used if the exponent is less than -4 or at least the precision (6 when shortest).
            var exponentLimit = precision
            if exponentLimit > digits.digits.count && digits.digits.count >= digits.decimalPoint {
                exponentLimit = digits.digits.count
            }
            if shortest { exponentLimit = 6 }
            let exponent = digits.decimalPoint - 1
            if exponent < -4 || exponent >= exponentLimit {
                let mark = verb == UInt8(ascii: "G") ? UInt8(ascii: "E") : UInt8(ascii: "e")
                return exponential(digits, negative: negative, precision: min(precision, digits.digits.count) - 1, mark: mark)
            }
            let kept = precision > digits.decimalPoint ? digits.digits.count : precision
            return plain(digits, negative: negative, precision: max(kept - digits.decimalPoint, 0))
        }
    }

    /// d.ddde±dd
    private static func exponential(_ digits: Digits, negative: Bool, precision: Int, mark: UInt8) -> String {
        var bytes: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        let count = digits.digits.count
        bytes.append(count == 0 ? UInt8(ascii: "0") : digits.digits[0])
        if precision > 0 {
            bytes.append(UInt8(ascii: "."))
            for index in 1...precision {
                bytes.append(index < count ? digits.digits[index] : UInt8(ascii: "0"))
            }
        }
        bytes.append(mark)
        var exponent = count == 0 ? 0 : digits.decimalPoint - 1
        bytes.append(exponent < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        exponent = abs(exponent)
        if exponent < 10 { bytes.append(UInt8(ascii: "0")) }
        bytes += Array(String(exponent).utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// ddd.ddd
    private static func plain(_ digits: Digits, negative: Bool, precision: Int) -> String {
        var bytes: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        let count = digits.digits.count
        if digits.decimalPoint > 0 {
            for index in 0..<digits.decimalPoint {
                bytes.append(index < count ? digits.digits[index] : UInt8(ascii: "0"))
            }
        } else {
            bytes.append(UInt8(ascii: "0"))
        }
        if precision > 0 {
            bytes.append(UInt8(ascii: "."))
            for offset in 1...precision {
                let index = digits.decimalPoint + offset - 1
                bytes.append(index >= 0 && index < count ? digits.digits[index] : UInt8(ascii: "0"))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Shortest digits that round-trip, read off Swift's `description` ("1.5e-07", "123.0").
    static func shortestDigits(_ magnitude: Double) -> Digits {
        if magnitude == 0 { return Digits() }
        return parseScientific(Array(magnitude.description.utf8))
    }

    /// `count` significant digits, correctly rounded (ties to even on the exact binary value).
    static func roundedDigits(_ magnitude: Double, significant count: Int) -> Digits {
        if magnitude == 0 { return Digits() }
        return parseScientific(cFormat("%.*e", precision: max(count, 1) - 1, magnitude))
    }

    /// `%.*f` from the C library: exact decimal expansion, rounded like Go's 'f' format.
    private static func fixedPoint(_ value: Double, precision: Int) -> String {
        String(decoding: cFormat("%.*f", precision: precision, value), as: UTF8.self)
    }

    private static func cFormat(_ format: String, precision: Int, _ value: Double) -> [UInt8] {
        let precision = Int32(clamping: min(precision, 100_000))
        var buffer = [CChar](repeating: 0, count: 64)
        var length = withVaList([precision, value]) { vsnprintf(&buffer, buffer.count, format, $0) }
        if Int(length) >= buffer.count {
            buffer = [CChar](repeating: 0, count: Int(length) + 1)
            length = withVaList([precision, value]) { vsnprintf(&buffer, buffer.count, format, $0) }
        }
        return buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }
    }

    /// Digits and decimal point of "123.45", "1.2345e+02" or "0.00012" (no sign).
    private static func parseScientific(_ text: [UInt8]) -> Digits {
        var mantissa = text[...]
        var exponent = 0
        if let mark = text.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = text[..<mark]
            exponent = Int(String(decoding: text[(mark + 1)...], as: UTF8.self)) ?? 0
        }
        var result = Digits()
        var pointPosition: Int?
        for byte in mantissa {
            if byte == UInt8(ascii: ".") {
                pointPosition = result.digits.count
            } else if byte == UInt8(ascii: "0") && result.digits.isEmpty {
                // A leading zero moves the decimal point left, unless it is before the point.
                if pointPosition != nil { exponent -= 1 }
            } else {
                result.digits.append(byte)
            }
        }
        result.decimalPoint = (pointPosition ?? result.digits.count) + exponent
        while result.digits.last == UInt8(ascii: "0") { result.digits.removeLast() }
        if result.digits.isEmpty { result.decimalPoint = 0 }
        return result
    }
}
