import Foundation

/// Go's template built-ins and Prometheus' template functions (`template/template.go`).
enum TemplateFunctions {
    static let names = [
        "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "len", "index", "print", "printf", "println", "html", "js", "urlquery",
        "humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toUpper", "toLower", "title",
        "reReplaceAll", "match", "safeHtml", "query", "first", "label", "value", "sortByLabel", "strvalue", "stripPort", "stripDomain",
        "parseDuration", "toTime", "pathPrefix", "externalURL", "args", "toDuration", "trimSpace",
    ]

    static func call(_ name: String, _ arguments: [TemplateValue], query: (@Sendable (String) async throws -> [QuerySample])?) async throws(TemplateError) -> TemplateValue {
        func argument(_ index: Int) throws(TemplateError) -> TemplateValue {
            guard index < arguments.count else { throw TemplateError(message: "wrong number of args for \(name): want \(index + 1) got \(arguments.count)") }
            return arguments[index]
        }
        func text(_ index: Int) throws(TemplateError) -> String {
            switch try argument(index) {
            case .string(let value): return value
            case let other: return other.printed
            }
        }
        switch name {
        case "and": return arguments.first { !$0.isTruthy } ?? arguments.last ?? .null
        case "or": return arguments.first { $0.isTruthy } ?? arguments.last ?? .null
        case "not": return .bool(!(try argument(0)).isTruthy)
        case "eq":
            let first = try argument(0)
            return .bool(arguments.dropFirst().contains { compare(first, $0) == 0 })
        case "ne": return .bool(compare(try argument(0), try argument(1)) != 0)
        case "lt": return .bool((compare(try argument(0), try argument(1)) ?? 0) < 0)
        case "le": return .bool((compare(try argument(0), try argument(1)) ?? 1) <= 0)
        case "gt": return .bool((compare(try argument(0), try argument(1)) ?? 0) > 0)
        case "ge": return .bool((compare(try argument(0), try argument(1)) ?? -1) >= 0)
        case "len":
            switch try argument(0) {
            case .string(let value): return .integer(value.utf8.count)
            case .labels(let map): return .integer(map.count)
            case .samples(let list): return .integer(list.count)
            case let other: throw TemplateError(message: "len of type \(other.typeName)")
            }
        case "index":
            var current = try argument(0)
            for key in arguments.dropFirst() {
                switch (current, key) {
                case (.labels(let map), _): current = map[key.printed].map(TemplateValue.string) ?? .string("")
                case (.samples(let list), .integer(let position)) where position >= 0 && position < list.count: current = .sample(list[position])
                default: throw TemplateError(message: "can't index item of type \(current.typeName)")
                }
            }
            return current
        case "print": return .string(goPrint(arguments))
        case "println": return .string(arguments.map(\.printed).joined(separator: " ") + "\n")
        case "printf": return .string(GoFormat.sprintf(try text(0), Array(arguments.dropFirst())))
        case "html": return .string(escapeHTML(goPrint(arguments)))
        case "safeHtml": return .string(try text(0))
        case "js": return .string(goPrint(arguments).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            .replacingOccurrences(of: "\"", with: "\\\""))
        case "urlquery":
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            return .string(goPrint(arguments).addingPercentEncoding(withAllowedCharacters: allowed)?.replacingOccurrences(of: "%20", with: "+") ?? "")
        case "humanize": return .string(Humanize.metric(try argument(0).asDouble()))
        case "humanize1024": return .string(Humanize.binary(try argument(0).asDouble()))
        case "humanizeDuration": return .string(Humanize.duration(try argument(0).asDouble()))
        case "humanizePercentage": return .string(Humanize.g4(try argument(0).asDouble() * 100) + "%")
        case "humanizeTimestamp": return .string(Humanize.timestamp(try argument(0).asDouble()))
        case "toUpper": return .string(try text(0).uppercased())
        case "toLower": return .string(try text(0).lowercased())
        case "trimSpace": return .string(try text(0).trimmingCharacters(in: .whitespacesAndNewlines))
        case "title": return .string(try text(0).split(separator: " ", omittingEmptySubsequences: false).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " "))
        case "match": return .bool(try regex(try text(0)).firstMatch(in: try text(1), range: NSRange(try text(1).startIndex..., in: try text(1))) != nil)
        case "reReplaceAll":
            let input = try text(2)
            // Go's `$1`/`${1}` replacement references become NSRegularExpression's `$1`.
            let template = try text(1).replacingOccurrences(of: #"\$\{(\d+)\}"#, with: "\\$$1", options: .regularExpression)
            return .string(try regex(try text(0)).stringByReplacingMatches(in: input, range: NSRange(input.startIndex..., in: input), withTemplate: template))
        case "query":
            guard let query else { throw TemplateError(message: "query is not available here") }
            do { return .samples(try await query(try text(0))) } catch { throw TemplateError(message: "\(error)") }
        case "first":
            guard case .samples(let list) = try argument(0) else { throw TemplateError(message: "first needs a query result") }
            guard let first = list.first else { throw TemplateError(message: "first() called on vector with no elements") }
            return .sample(first)
        case "label":
            guard case .sample(let sample) = try argument(1) else { return .string("") }
            return .string(sample.labels[try text(0)] ?? "")
        case "value":
            guard case .sample(let sample) = try argument(0) else { throw TemplateError(message: "value needs a sample") }
            return .number(sample.value)
        case "strvalue":
            guard case .sample(let sample) = try argument(0) else { return .string("") }
            return .string(sample.labels["__value__"] ?? "")
        case "sortByLabel":
            guard case .samples(let list) = try argument(1) else { throw TemplateError(message: "sortByLabel needs a query result") }
            let label = try text(0)
            return .samples(list.sorted { ($0.labels[label] ?? "") < ($1.labels[label] ?? "") })
        case "stripPort":
            let host = try text(0)
            if host.hasPrefix("["), let end = host.firstIndex(of: "]") { return .string(String(host[host.index(after: host.startIndex)..<end])) }
            if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") { return .string(String(host[..<colon])) }
            return .string(host)
        case "stripDomain":
            let host = try text(0)
            let (name, port) = host.filter({ $0 == ":" }).count == 1 ? (String(host.prefix { $0 != ":" }), String(host.drop { $0 != ":" })) : (host, "")
            if name.allSatisfy({ $0.isNumber || $0 == "." }) { return .string(host) }
            return .string(String(name.prefix { $0 != "." }) + port)
        case "parseDuration", "toDuration":
            guard let duration = Humanize.parseDuration(try text(0)) else { throw TemplateError(message: "not a valid duration string: \"\(try text(0))\"") }
            return .number(duration)
        case "toTime": return .string(Humanize.timestamp(try argument(0).asDouble()))
        case "pathPrefix", "externalURL": return .string("")
        case "args": return .labels(Dictionary(uniqueKeysWithValues: arguments.enumerated().map { ("arg\($0.offset)", $0.element.printed) }))
        default: throw TemplateError(message: "function \"\(name)\" not defined")
        }
    }

    /// Go's `fmt.Sprint`: spaces only between operands when neither is a string.
    static func goPrint(_ arguments: [TemplateValue]) -> String {
        var output = ""
        for (index, argument) in arguments.enumerated() {
            if index > 0, case .string = argument {} else if index > 0, case .string = arguments[index - 1] {} else if index > 0 { output += " " }
            output += argument.printed
        }
        return output
    }

    static func compare(_ a: TemplateValue, _ b: TemplateValue) -> Int? {
        if a.isNumeric, b.isNumeric, let x = try? a.asDouble(), let y = try? b.asDouble() { return x < y ? -1 : (x > y ? 1 : 0) }
        switch (a, b) {
        case (.string(let x), .string(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.bool(let x), .bool(let y)): return x == y ? 0 : 1
        case (.null, .null): return 0
        default: return a.printed == b.printed ? 0 : nil
        }
    }

    static func escapeHTML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&#34;").replacingOccurrences(of: "'", with: "&#39;")
    }

    static func regex(_ pattern: String) throws(TemplateError) -> NSRegularExpression {
        // Unanchored, as Go's regexp.MatchString and ReplaceAllString are.
        do { return try NSRegularExpression(pattern: pattern) } catch {
            throw TemplateError(message: "error parsing regexp: \(pattern)")
        }
    }
}

/// Prometheus' humanize family, with Go's `%.4g`.
enum Humanize {
    static func g4(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        return String(format: "%.4g", value)
    }

    static func metric(_ value: Double) -> String {
        if value == 0 || !value.isFinite { return g4(value) }
        var v = value
        var prefix = ""
        if abs(v) >= 1 {
            for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
                if abs(v) < 1000 { break }
                prefix = p
                v /= 1000
            }
        } else {
            for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
                if abs(v) >= 1 { break }
                prefix = p
                v *= 1000
            }
        }
        return g4(v) + prefix
    }

    static func binary(_ value: Double) -> String {
        if abs(value) <= 1 || !value.isFinite { return g4(value) }
        var v = value
        var prefix = ""
        for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
            if abs(v) < 1024 { break }
            prefix = p
            v /= 1024
        }
        return g4(v) + prefix
    }

    static func duration(_ value: Double) -> String {
        if !value.isFinite { return g4(value) }
        if value == 0 { return g4(value) + "s" }
        if abs(value) >= 1 {
            let sign = value < 0 ? "-" : ""
            let v = abs(value)
            let total = Int64(v)
            let (seconds, minutes, hours, days) = (total % 60, (total / 60) % 60, (total / 3600) % 24, total / 86_400)
            if days != 0 { return "\(sign)\(days)d \(hours)h \(minutes)m \(seconds)s" }
            if hours != 0 { return "\(sign)\(hours)h \(minutes)m \(seconds)s" }
            if minutes != 0 { return "\(sign)\(minutes)m \(seconds)s" }
            return "\(sign)\(g4(v))s"
        }
        var v = value
        var prefix = ""
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if abs(v) >= 1 { break }
            prefix = p
            v *= 1000
        }
        return g4(v) + prefix + "s"
    }

    /// Go's `time.Time.String()` in UTC: `2015-06-23 13:19:44.128 +0000 UTC`.
    static func timestamp(_ seconds: Double) -> String {
        if !seconds.isFinite { return g4(seconds) }
        // As Prometheus: int64(v * 1e9) nanoseconds, then split.
        let total = Int64(seconds * 1e9)
        let whole = Double(total.quotientAndRemainder(dividingBy: 1_000_000_000).quotient - (total < 0 && total % 1_000_000_000 != 0 ? 1 : 0))
        let nanos = total - Int64(whole) * 1_000_000_000
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: whole))
        var text = String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        if nanos > 0 {
            var fraction = String(format: "%09lld", nanos)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + " +0000 UTC"
    }

    static func parseDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400), ("w", 604_800), ("y", 31_536_000)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard let amount = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += amount * unit.1
        }
        return total
    }
}
