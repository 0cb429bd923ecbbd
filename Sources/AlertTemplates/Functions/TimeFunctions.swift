import Foundation

/// Prometheus' time functions, plus the time.Time and time.Duration methods templates call on
/// their results (`(... | toTime).Format "2006-01-02"`, `(... | toDuration).String`).
enum TimeFunctions {
    static let functions: [TemplateFunction] = [
        TemplateFunction("toTime", [.any]) { arguments, _ throws(FunctionError) in
            let seconds = try HumanizeFunctions.float(arguments[0])
            do throws(GoTime.RangeError) {
                return .time(try GoTime.fromPrometheus(seconds: seconds))
            } catch {
                throw FunctionError(error.message)
            }
        },
        TemplateFunction("toDuration", [.any]) { arguments, _ throws(FunctionError) in
            .duration(goInt64(try HumanizeFunctions.float(arguments[0]) * 1e9))
        },
        TemplateFunction("now", []) { _, context in
            let time = context.data.evaluationTime ?? Date()
            // Prometheus passes the evaluation time in milliseconds (model.Time).
            return .float(Double(goInt64((time.timeIntervalSince1970 * 1000).rounded(.down))) / 1000)
        },
        TemplateFunction("parseDuration", [.string]) { arguments, _ throws(FunctionError) in
            .float(Double(try PrometheusDuration.parse(arguments[0].stringArgument)) / 1e9)
        },
    ]

    /// Go's float-to-int64 conversion; out of range gives the minimum, as on amd64.
    static func goInt64(_ value: Double) -> Int64 {
        value >= -9.223372036854775808e18 && value < 9.223372036854775807e18 ? Int64(value) : Int64.min
    }

    /// The methods of *time.Time and *time.Duration that templates can call.
    static func method(_ name: String, of receiver: Value) -> TemplateFunction? {
        switch receiver {
        case .time(let time):
            return timeMethod(name, time)
        case .duration(let duration):
            return durationMethod(name, duration)
        default:
            return nil
        }
    }

    private static func timeMethod(_ name: String, _ time: GoTime) -> TemplateFunction? {
        let civil = time.civil
        switch name {
        case "Format": return TemplateFunction(name, [.string]) { arguments, _ in .string(time.format(arguments[0].stringArgument)) }
        case "String": return TemplateFunction(name, []) { _, _ in .string(time.description) }
        case "Unix": return TemplateFunction(name, []) { _, _ in .int(Int(time.seconds)) }
        case "UnixMilli": return TemplateFunction(name, []) { _, _ in .int(Int(time.unixMilli)) }
        case "UnixNano": return TemplateFunction(name, []) { _, _ in .int(Int(time.unixNano)) }
        case "UTC", "Local": return TemplateFunction(name, []) { _, _ in .time(time) }
        case "Add":
            return TemplateFunction(name, [.duration]) { arguments, _ in
                if case .duration(let delta) = arguments[0] { return .time(time.adding(nanoseconds: delta)) }
                return .time(time)
            }
        case "Year": return TemplateFunction(name, []) { _, _ in .int(Int(civil.year)) }
        case "Day": return TemplateFunction(name, []) { _, _ in .int(civil.day) }
        case "Hour": return TemplateFunction(name, []) { _, _ in .int(civil.hour) }
        case "Minute": return TemplateFunction(name, []) { _, _ in .int(civil.minute) }
        case "Second": return TemplateFunction(name, []) { _, _ in .int(civil.second) }
        case "YearDay": return TemplateFunction(name, []) { _, _ in .int(civil.yearDay) }
        default: return nil
        }
    }

    private static func durationMethod(_ name: String, _ duration: Int64) -> TemplateFunction? {
        switch name {
        case "String": return TemplateFunction(name, []) { _, _ in .string(GoDuration.string(duration)) }
        case "Seconds": return TemplateFunction(name, []) { _, _ in .float(Double(duration) / 1e9) }
        case "Minutes": return TemplateFunction(name, []) { _, _ in .float(Double(duration) / 6e10) }
        case "Hours": return TemplateFunction(name, []) { _, _ in .float(Double(duration) / 3.6e12) }
        case "Milliseconds": return TemplateFunction(name, []) { _, _ in .int(Int(duration / 1_000_000)) }
        case "Microseconds": return TemplateFunction(name, []) { _, _ in .int(Int(duration / 1000)) }
        case "Nanoseconds": return TemplateFunction(name, []) { _, _ in .int(Int(duration)) }
        default: return nil
        }
    }
}

/// Prometheus durations (model.ParseDurationAllowNegative): "1h30m", "-5m", "1w", "0".
enum PrometheusDuration {
    private static let units: [(String, Int, UInt64)] = [
        ("ms", 7, 1_000_000), ("s", 6, 1_000_000_000), ("m", 5, 60_000_000_000), ("h", 4, 3_600_000_000_000),
        ("d", 3, 86_400_000_000_000), ("w", 2, 604_800_000_000_000), ("y", 1, 31_536_000_000_000_000),
    ]

    /// Nanoseconds.
    static func parse(_ text: String) throws(FunctionError) -> Int64 {
        if text.hasPrefix("-") { return -(try parseUnsigned(String(text.dropFirst()))) }
        return try parseUnsigned(text)
    }

    private static func parseUnsigned(_ text: String) throws(FunctionError) -> Int64 {
        if text == "0" { return 0 }
        if text.isEmpty { throw FunctionError("empty duration string") }
        let invalid = FunctionError("not a valid duration string: \(GoStrings.quote(text))")
        var rest = Substring(text)
        var total: UInt64 = 0
        var lastUnitPosition = 0
        while !rest.isEmpty {
            let digits = rest.prefix(while: { ("0"..."9").contains($0) })
            guard !digits.isEmpty, let value = UInt64(digits) else { throw invalid }
            rest = rest[digits.endIndex...]
            let unitText = rest.prefix(while: { !("0"..."9").contains($0) })
            guard !unitText.isEmpty else { throw invalid }
            rest = rest[unitText.endIndex...]
            guard let (_, position, multiplier) = units.first(where: { $0.0 == String(unitText) }) else {
                throw FunctionError("unknown unit \(GoStrings.quote(String(unitText))) in duration \(GoStrings.quote(text))")
            }
            // Units must go from biggest to smallest.
            guard position > lastUnitPosition else { throw invalid }
            lastUnitPosition = position
            guard value <= (UInt64(1) << 63) / multiplier else { throw FunctionError("duration out of range") }
            total += value * multiplier
            guard total <= UInt64(Int64.max) else { throw FunctionError("duration out of range") }
        }
        return Int64(total)
    }
}
