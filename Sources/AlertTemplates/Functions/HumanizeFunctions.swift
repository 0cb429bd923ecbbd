/// Prometheus' humanize* functions. Each takes a number or a numeric string (Prometheus'
/// ConvertToFloat) and formats with Go's %.4g, so the digits match Prometheus exactly.
enum HumanizeFunctions {
    static let functions: [TemplateFunction] = [
        TemplateFunction("humanize", [.any]) { arguments, _ throws(FunctionError) in .string(humanize(try float(arguments[0]))) },
        TemplateFunction("humanize1024", [.any]) { arguments, _ throws(FunctionError) in .string(humanize1024(try float(arguments[0]))) },
        TemplateFunction("humanizeDuration", [.any]) { arguments, _ throws(FunctionError) in
            .string(humanizeDuration(try float(arguments[0])))
        },
        TemplateFunction("humanizePercentage", [.any]) { arguments, _ throws(FunctionError) in
            .string(g4(try float(arguments[0]) * 100) + "%")
        },
        TemplateFunction("humanizeTimestamp", [.any]) { arguments, _ throws(FunctionError) in
            .string(try humanizeTimestamp(try float(arguments[0])))
        },
    ]

    /// Prometheus' ConvertToFloat: numbers and the strings strconv.ParseFloat accepts. (It takes a
    /// time.Duration too, but `toDuration` returns a *time.Duration, which it refuses.)
    static func float(_ value: Value) throws(FunctionError) -> Double {
        switch value {
        case .float(let float): return float
        case .int(let int): return Double(int)
        case .string(let string):
            do {
                return try GoStrconv.parseFloat(string)
            } catch {
                throw FunctionError(error.message)
            }
        case .invalid: throw FunctionError("can't convert <nil> to float")
        default: throw FunctionError("can't convert \(value.typeName) to float")
        }
    }

    /// Go's %.4g.
    static func g4(_ value: Double) -> String { GoFloat.format(value, UInt8(ascii: "g"), precision: 4) }

    static func humanize(_ value: Double) -> String {
        if value == 0 || value.isNaN || value.isInfinite { return g4(value) }
        var value = value
        var prefix = ""
        if abs(value) >= 1 {
            for unit in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
                if abs(value) < 1000 { break }
                prefix = unit
                value /= 1000
            }
        } else {
            for unit in ["m", "u", "n", "p", "f", "a", "z", "y"] {
                if abs(value) >= 1 { break }
                prefix = unit
                value *= 1000
            }
        }
        return g4(value) + prefix
    }

    static func humanize1024(_ value: Double) -> String {
        if abs(value) <= 1 || value.isNaN || value.isInfinite { return g4(value) }
        var value = value
        var prefix = ""
        for unit in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
            if abs(value) < 1024 { break }
            prefix = unit
            value /= 1024
        }
        return g4(value) + prefix
    }

    static func humanizeDuration(_ value: Double) -> String {
        if value.isNaN || value.isInfinite { return g4(value) }
        if value == 0 { return g4(value) + "s" }
        if abs(value) >= 1 {
            let sign = value < 0 ? "-" : ""
            let magnitude = abs(value)
            // Go's int64(v), which saturates to the minimum on amd64 for out-of-range values.
            let duration = magnitude < 9.223372036854775807e18 ? Int64(magnitude) : Int64.min
            let seconds = duration % 60, minutes = duration / 60 % 60, hours = duration / 3600 % 24, days = duration / 86_400
            // From minutes up, seconds print as an integer.
            if days != 0 { return "\(sign)\(days)d \(hours)h \(minutes)m \(seconds)s" }
            if hours != 0 { return "\(sign)\(hours)h \(minutes)m \(seconds)s" }
            if minutes != 0 { return "\(sign)\(minutes)m \(seconds)s" }
            return sign + g4(magnitude) + "s"
        }
        var value = value
        var prefix = ""
        for unit in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if abs(value) >= 1 { break }
            prefix = unit
            value *= 1000
        }
        return g4(value) + prefix + "s"
    }

    static func humanizeTimestamp(_ value: Double) throws(FunctionError) -> String {
        if value.isNaN || value.isInfinite { return g4(value) }
        do {
            return try GoTime.fromPrometheus(seconds: value).description
        } catch {
            throw FunctionError(error.message)
        }
    }
}
