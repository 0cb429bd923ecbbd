import Foundation
import SplitPlaneProtocol
import Yams

/// A Prometheus `promtool test rules` unit-test file: rule files, an evaluation interval, and test
/// cases with input series and expected alerts.
public struct RuleTestFile: Sendable {
    public var path: String
    public var ruleFiles: [String]
    public var evaluationInterval: Duration
    public var tests: [RuleTestCase]

    public static func load(path: String) throws -> RuleTestFile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw RuleTestError("\(path): cannot read") }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(yaml: text, path: path, directory: directory)
    }

    public static func parse(yaml: String, path: String, directory: String) throws -> RuleTestFile {
        let root: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: yaml) as? [String: Any] else { throw RuleTestError("\(path): expected a mapping") }
            root = loaded
        } catch let error as RuleTestError {
            throw error
        } catch {
            throw RuleTestError("\(path): not valid YAML: \("\(error)".split(separator: "\n").first ?? "")")
        }
        let known: Set<String> = ["rule_files", "evaluation_interval", "tests", "group_eval_order", "fuzzy_compare"]
        if let unknown = root.keys.sorted().first(where: { !known.contains($0) }) { throw RuleTestError("\(path): unknown field \(unknown)") }
        let ruleFiles = (root["rule_files"] as? [String] ?? []).map { $0.hasPrefix("/") ? $0 : "\(directory)/\($0)" }
        let interval = try duration(root["evaluation_interval"], default: .seconds(60), field: "\(path): evaluation_interval")
        var tests: [RuleTestCase] = []
        for (index, raw) in (root["tests"] as? [[String: Any]] ?? []).enumerated() {
            tests.append(try RuleTestCase(raw, defaultInterval: interval, field: "\(path): tests[\(index)]"))
        }
        return RuleTestFile(path: path, ruleFiles: ruleFiles, evaluationInterval: interval, tests: tests)
    }

    static func duration(_ raw: Any?, default fallback: Duration, field: String) throws -> Duration {
        guard let raw else { return fallback }
        guard let duration = PrometheusDuration.parse("\(raw)") else { throw RuleTestError("\(field): \"\(raw)\" is not a duration") }
        return duration
    }
}

public struct RuleTestCase: Sendable {
    public struct InputSeries: Sendable {
        public var series: String
        /// One entry per interval step from time zero; nil where the sample is missing (`_`, `stale`).
        public var values: [Double?]
    }

    public struct AlertTest: Sendable {
        public var evalTime: Duration
        public var alertname: String
        public var expected: [ExpectedAlert]
    }

    public struct ExpectedAlert: Sendable, Hashable, CustomStringConvertible {
        public var labels: [String: String]
        public var annotations: [String: String]
        public var description: String {
            let labels = self.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ", ")
            let annotations = self.annotations.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ", ")
            return "{Labels:{\(labels)} Annotations:{\(annotations)}}"
        }
    }

    public var name: String
    public var interval: Duration
    public var externalLabels: [String: String]
    public var inputSeries: [InputSeries]
    public var alertTests: [AlertTest]

    init(_ raw: [String: Any], defaultInterval: Duration, field: String) throws {
        let known: Set<String> = ["name", "interval", "input_series", "alert_rule_test", "promql_expr_test", "external_labels", "external_url"]
        if let unknown = raw.keys.sorted().first(where: { !known.contains($0) }) { throw RuleTestError("\(field): unknown field \(unknown)") }
        name = raw["name"] as? String ?? ""
        interval = try RuleTestFile.duration(raw["interval"], default: defaultInterval, field: "\(field).interval")
        externalLabels = (raw["external_labels"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
        inputSeries = try (raw["input_series"] as? [[String: Any]] ?? []).enumerated().map { index, series in
            guard let selector = series["series"] as? String else { throw RuleTestError("\(field).input_series[\(index)]: `series` is required") }
            return InputSeries(
                series: selector, values: try SeriesNotation.expand("\(series["values"] ?? "")", field: "\(field).input_series[\(index)].values"))
        }
        alertTests = try (raw["alert_rule_test"] as? [[String: Any]] ?? []).enumerated().map { index, test in
            let testField = "\(field).alert_rule_test[\(index)]"
            guard let alertname = test["alertname"] as? String else { throw RuleTestError("\(testField): `alertname` is required") }
            let expected = (test["exp_alerts"] as? [[String: Any]] ?? []).map { alert in
                ExpectedAlert(
                    labels: (alert["exp_labels"] as? [String: Any] ?? [:]).mapValues { "\($0)" },
                    annotations: (alert["exp_annotations"] as? [String: Any] ?? [:]).mapValues { "\($0)" })
            }
            return AlertTest(
                evalTime: try RuleTestFile.duration(test["eval_time"], default: .zero, field: "\(testField).eval_time"),
                alertname: alertname, expected: expected)
        }
        if raw["promql_expr_test"] != nil {
            throw RuleTestError("\(field): promql_expr_test is not supported yet; use alert_rule_test")
        }
    }

    /// Samples for VictoriaMetrics' Prometheus import, one line each, at `origin + i·interval`.
    public func importLines(origin: Date) -> [String] {
        let originMilliseconds = Int64(origin.timeIntervalSince1970 * 1000)
        let step = interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000
        var lines: [String] = []
        for input in inputSeries {
            for (index, value) in input.values.enumerated() {
                guard let value else { continue }
                lines.append("\(input.series) \(GoStyle.number(value)) \(originMilliseconds + Int64(index) * step)")
            }
        }
        return lines
    }
}

/// promtool's series notation: `a+bxn`, `a-bxn`, `axn`, `_`, `_xn`, `stale`.
public enum SeriesNotation {
    public static func expand(_ text: String, field: String = "values") throws -> [Double?] {
        var values: [Double?] = []
        for token in text.split(whereSeparator: \.isWhitespace).map(String.init) {
            if token == "_" || token == "stale" { values.append(nil); continue }
            if token.hasPrefix("_x") {
                guard let count = Int(token.dropFirst(2)), count >= 0 else { throw RuleTestError("\(field): \"\(token)\" is not a series description") }
                values += Array(repeating: nil, count: count)
                continue
            }
            guard let x = token.lastIndex(of: "x") else {
                guard let value = Double(token) else { throw RuleTestError("\(field): \"\(token)\" is not a series description") }
                values.append(value)
                continue
            }
            guard let count = Int(token[token.index(after: x)...]), count >= 0 else {
                throw RuleTestError("\(field): \"\(token)\" is not a series description")
            }
            let head = token[..<x]
            // Split "a+b" / "a-b" at the operator that is not the sign of `a`.
            var start = head.startIndex
            var increment = 0.0
            var base = Double(head)
            if base == nil {
                if head.first == "-" || head.first == "+" { start = head.index(after: start) }
                guard let operatorIndex = head[start...].firstIndex(where: { $0 == "+" || $0 == "-" }),
                    let a = Double(head[..<operatorIndex]), let b = Double(head[head.index(after: operatorIndex)...])
                else {
                    throw RuleTestError("\(field): \"\(token)\" is not a series description")
                }
                base = a
                increment = head[operatorIndex] == "+" ? b : -b
            }
            for step in 0...count { values.append(base! + Double(step) * increment) }
        }
        return values
    }
}

enum GoStyle {
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

public struct RuleTestError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
