/// A UTC instant printed the way Go's time package prints it. Prometheus' template times are
/// always UTC, so zones other than UTC never arise.
struct GoTime: Sendable, Equatable {
    /// Seconds since the Unix epoch.
    var seconds: Int64
    /// Nanoseconds within the second, 0..<1e9.
    var nanoseconds: Int64

    init(seconds: Int64, nanoseconds: Int64) {
        let carry = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
        self.seconds = seconds + carry
        self.nanoseconds = nanoseconds - carry * 1_000_000_000
    }

    struct RangeError: Error {
        let message: String
    }

    /// Prometheus' floatToTime: seconds to nanoseconds, truncated to milliseconds (model.Time).
    static func fromPrometheus(seconds value: Double) throws(RangeError) -> GoTime {
        if value.isNaN || value.isInfinite { throw RangeError(message: "value is NaN or Inf") }
        let nanos = value * 1e9
        guard nanos < 9.223372036854775807e18 && nanos >= -9.223372036854775808e18 else {
            throw RangeError(message: "\(GoFormat.formatValue(.float(value))) cannot be represented as a nanoseconds timestamp since it overflows int64")
        }
        let milliseconds = Int64(nanos) / 1_000_000
        return GoTime(seconds: milliseconds / 1000, nanoseconds: (milliseconds % 1000) * 1_000_000)
    }

    func adding(nanoseconds delta: Int64) -> GoTime {
        GoTime(seconds: seconds + delta / 1_000_000_000, nanoseconds: nanoseconds + delta % 1_000_000_000)
    }

    var unixMilli: Int64 { seconds * 1000 + nanoseconds / 1_000_000 }
    var unixNano: Int64 { seconds &* 1_000_000_000 &+ nanoseconds }

    /// Time.String: "2006-01-02 15:04:05.999999999 -0700 MST".
    var description: String { format("2006-01-02 15:04:05.999999999 -0700 MST") }

    // MARK: Calendar

    struct Civil {
        var year: Int64, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int, yearDay: Int
    }

    /// Proleptic Gregorian date of the instant (Howard Hinnant's days-to-civil algorithm).
    var civil: Civil {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4).
        let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
        let yearDay = cumulative[month - 1] + day + (isLeap && month > 2 ? 1 : 0)
        return Civil(
            year: year, month: month, day: day, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60,
            second: secondOfDay % 60, weekday: weekday, yearDay: yearDay)
    }

    // MARK: Layouts

    private static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ]
    private static let dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    /// Time.Format with Go's reference-time layout ("Mon Jan 2 15:04:05 MST 2006").
    func format(_ layout: String) -> String {
        let civil = civil
        let bytes = Array(layout.utf8)
        var output = ""
        var index = 0
        func starts(_ prefix: String) -> Bool {
            let prefixBytes = Array(prefix.utf8)
            return index + prefixBytes.count <= bytes.count && Array(bytes[index..<(index + prefixBytes.count)]) == prefixBytes
        }
        func padded(_ value: Int64, _ width: Int, pad: Character = "0") -> String {
            let digits = String(value.magnitude)
            return (value < 0 ? "-" : "") + String(repeating: pad, count: max(0, width - digits.count)) + digits
        }
        let hour12 = civil.hour % 12 == 0 ? 12 : civil.hour % 12
        // Longest matches first, as Go's nextStdChunk does.
        let chunks: [(String, () -> String)] = [
            ("January", { Self.monthNames[civil.month - 1] }),
            ("Jan", { String(Self.monthNames[civil.month - 1].prefix(3)) }),
            ("Monday", { Self.dayNames[civil.weekday] }),
            ("Mon", { String(Self.dayNames[civil.weekday].prefix(3)) }),
            ("MST", { "UTC" }),
            ("2006", { padded(civil.year, 4) }),
            ("002", { padded(Int64(civil.yearDay), 3) }),
            ("01", { padded(Int64(civil.month), 2) }),
            ("02", { padded(Int64(civil.day), 2) }),
            ("03", { padded(Int64(hour12), 2) }),
            ("04", { padded(Int64(civil.minute), 2) }),
            ("05", { padded(Int64(civil.second), 2) }),
            ("06", { padded(civil.year % 100, 2) }),
            ("15", { padded(Int64(civil.hour), 2) }),
            ("1", { String(civil.month) }),
            ("2", { String(civil.day) }),
            ("_2006", { "_" + padded(civil.year, 4) }),
            ("__2", { padded(Int64(civil.yearDay), 3, pad: " ") }),
            ("_2", { padded(Int64(civil.day), 2, pad: " ") }),
            ("3", { String(hour12) }),
            ("4", { String(civil.minute) }),
            ("5", { String(civil.second) }),
            ("PM", { civil.hour >= 12 ? "PM" : "AM" }),
            ("pm", { civil.hour >= 12 ? "pm" : "am" }),
            ("-07:00:00", { "+00:00:00" }), ("-070000", { "+000000" }), ("-07:00", { "+00:00" }), ("-0700", { "+0000" }), ("-07", { "+00" }),
            ("Z07:00:00", { "Z" }), ("Z070000", { "Z" }), ("Z07:00", { "Z" }), ("Z0700", { "Z" }), ("Z07", { "Z" }),
        ]
        outer: while index < bytes.count {
            // Fractional seconds: ".000" keeps zeros, ".999" trims them; not followed by a digit.
            if bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ","), index + 1 < bytes.count,
                bytes[index + 1] == UInt8(ascii: "0") || bytes[index + 1] == UInt8(ascii: "9")
            {
                let digit = bytes[index + 1]
                var end = index + 1
                while end < bytes.count && bytes[end] == digit { end += 1 }
                if end == bytes.count || !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end]) {
                    output += fraction(separator: Character(UnicodeScalar(bytes[index])), digits: end - index - 1, trim: digit == UInt8(ascii: "9"))
                    index = end
                    continue
                }
            }
            for (chunk, render) in chunks where starts(chunk) {
                // "Jan" inside "January" style words: Go requires "Mon"/"Jan" not be followed by a lowercase letter.
                if chunk == "Jan" || chunk == "Mon", index + 3 < bytes.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[index + 3]) {
                    break
                }
                output += render()
                index += chunk.utf8.count
                continue outer
            }
            output.unicodeScalars.append(UnicodeScalar(bytes[index]))
            index += 1
        }
        return output
    }

    private func fraction(separator: Character, digits: Int, trim: Bool) -> String {
        let nanos = String(nanoseconds)
        var text = String(repeating: "0", count: 9 - nanos.count) + nanos
        text = String(text.prefix(min(digits, 9)))
        if trim {
            while text.hasSuffix("0") { text.removeLast() }
            return text.isEmpty ? "" : String(separator) + text
        }
        return String(separator) + text + String(repeating: "0", count: max(0, digits - 9))
    }
}

/// time.Duration.String: "1h2m0.5s", "1.5ms", "0s".
enum GoDuration {
    static func string(_ duration: Int64) -> String {
        var value = duration.magnitude
        let negative = duration < 0
        var result = ""
        if value < 1_000_000_000 {
            if value == 0 { return "0s" }
            let (precision, unit) = value < 1000 ? (0, "ns") : value < 1_000_000 ? (3, "µs") : (6, "ms")
            let (fractionText, whole) = fraction(value, precision: precision)
            result = String(whole) + fractionText + unit
        } else {
            let (fractionText, wholeSeconds) = fraction(value, precision: 9)
            value = wholeSeconds
            result = String(value % 60) + fractionText + "s"
            value /= 60
            if value > 0 {
                result = String(value % 60) + "m" + result
                value /= 60
                if value > 0 { result = String(value) + "h" + result }
            }
        }
        return negative ? "-" + result : result
    }

    /// The fraction of value/10^precision as ".123" without trailing zeros (or "" when whole),
    /// and the integer part.
    private static func fraction(_ value: UInt64, precision: Int) -> (String, UInt64) {
        var value = value
        var digits = ""
        var significant = false
        for _ in 0..<precision {
            let digit = value % 10
            significant = significant || digit != 0
            if significant { digits = String(digit) + digits }
            value /= 10
        }
        return (digits.isEmpty ? "" : "." + digits, value)
    }
}
