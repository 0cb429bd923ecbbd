import Foundation

/// Go's number formatting where it differs from C's: `%v` of a float64, NaN/Inf spelling.
enum GoFormat {
    /// `fmt.Sprint(float64)`: `%g` with the shortest representation, so `%e` form when the decimal
    /// exponent is < -4 or ≥ 6 (Go's `strconv` uses precision 6 for that decision when shortest).
    static func float(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        // Swift's description is the shortest round-tripping decimal, like Go's; only the layout differs.
        let negative = value < 0
        var text = "\(abs(value))"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...])!
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(parts[0]) + (parts.count > 1 ? String(parts[1]) : "")
        var pointPosition = parts[0].count + exponent
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let decimalExponent = pointPosition - 1
        var result: String
        if decimalExponent < -4 || decimalExponent >= 6 {
            let mantissa = digits.count > 1 ? "\(digits.first!).\(digits.dropFirst())" : digits
            let sign = decimalExponent < 0 ? "-" : "+"
            let magnitude = abs(decimalExponent)
            result = "\(mantissa)e\(sign)\(magnitude < 10 ? "0" : "")\(magnitude)"
        } else if pointPosition <= 0 {
            result = "0." + String(repeating: "0", count: -pointPosition) + digits
        } else if pointPosition >= digits.count {
            result = digits + String(repeating: "0", count: pointPosition - digits.count)
        } else {
            let index = digits.index(digits.startIndex, offsetBy: pointPosition)
            result = "\(digits[..<index]).\(digits[index...])"
        }
        return negative ? "-" + result : result
    }

    /// C's printf for one numeric verb, with Go's spelling of NaN and infinities.
    static func cFloat(_ spec: String, _ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        return String(format: spec, value)
    }

    /// `fmt.Sprintf` for the verbs rule templates use: %s %v %d %f %e %g %q %x %t %%, with flags,
    /// width and precision.
    static func sprintf(_ format: String, _ arguments: [TemplateValue]) -> String {
        var output = ""
        var remaining = arguments[...]
        var characters = format[...]
        while let character = characters.first {
            characters = characters.dropFirst()
            guard character == "%" else { output.append(character); continue }
            var spec = "%"
            while let flag = characters.first, "+-# 0".contains(flag) { spec.append(flag); characters = characters.dropFirst() }
            while let digit = characters.first, digit.isNumber || digit == "." { spec.append(digit); characters = characters.dropFirst() }
            guard let verb = characters.first else { output += "%!(NOVERB)"; break }
            characters = characters.dropFirst()
            if verb == "%" { output += "%"; continue }
            guard let argument = remaining.first else { output += "%!\(verb)(MISSING)"; continue }
            remaining = remaining.dropFirst()
            switch (verb, argument) {
            case ("d", .integer(let value)): output += String(format: spec + "ld", value)
            case ("d", .number(let value)) where value == value.rounded() && abs(value) < 9e18:
                output += "%!d(float64=\(GoFormat.float(value)))"
            case ("f", _), ("F", _), ("e", _), ("E", _), ("g", _), ("G", _):
                if let value = try? argument.asDouble(), argument.isNumeric {
                    output += cFloat(spec + String(verb), value)
                } else {
                    output += "%!\(verb)(\(argument.typeName)=\(argument.printed))"
                }
            case ("s", _), ("v", _):
                let text = argument.printed
                output += text
            case ("q", _): output += "\"" + argument.printed.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            case ("t", .bool(let value)): output += value ? "true" : "false"
            case ("x", .integer(let value)): output += String(value, radix: 16)
            case ("x", .string(let text)): output += text.utf8.map { String(format: "%02x", $0) }.joined()
            default: output += "%!\(verb)(\(argument.typeName)=\(argument.printed))"
            }
        }
        if !remaining.isEmpty {
            output += "%!(EXTRA " + remaining.map { "\($0.typeName)=\($0.printed)" }.joined(separator: ", ") + ")"
        }
        return output
    }
}

extension TemplateValue {
    var isNumeric: Bool {
        switch self {
        case .number, .integer: true
        default: false
        }
    }
}
