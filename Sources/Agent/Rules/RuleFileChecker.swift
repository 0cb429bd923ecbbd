import Foundation
import SplitPlaneProtocol
import Yams

/// `qbeast-agent check-rules`: validates Prometheus rule files the way the agent will use them —
/// schema, durations, templates, optionally every expression against a metrics store.
public struct RuleFileChecker: Sendable {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var location: String
        public var message: String
        public var description: String { "\(location): \(message)" }
    }

    public struct Report: Sendable {
        public var groups = 0
        public var rules = 0
        public var problems: [Problem] = []
    }

    let store: MetricsStoreClient?

    public init(storeURL: String? = nil) {
        store = storeURL.map { MetricsStoreClient(baseURL: $0, timeout: .seconds(10)) }
    }

    /// A rule file as Prometheus writes it: `groups:` at the top, nothing else.
    struct RuleFile: Codable { var groups: [RuleGroup] }

    public func check(path: String, now: Date = Date()) async -> Report {
        var report = Report()
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            report.problems.append(Problem(location: path, message: "cannot read: \(error.localizedDescription)"))
            return report
        }
        let file: RuleFile
        do {
            file = try Self.decode(text)
        } catch {
            report.problems.append(Problem(location: path, message: "\(error)"))
            return report
        }
        var names = Set<String>()
        for (groupIndex, group) in file.groups.enumerated() {
            report.groups += 1
            let groupLocation = "\(path):\(group.name.isEmpty ? "groups[\(groupIndex)]" : group.name)"
            if !names.insert(group.name).inserted {
                report.problems.append(Problem(location: groupLocation, message: "duplicate group name"))
            }
            var groupOnly = group
            groupOnly.rules = []
            do {
                _ = try CompiledRuleGroup(groupOnly, workspace: "check", defaultInterval: .seconds(60), field: "group")
            } catch {
                report.problems.append(Problem(location: groupLocation, message: error.description.replacingOccurrences(of: "group.", with: "")))
            }
            for (ruleIndex, rule) in group.rules.enumerated() {
                report.rules += 1
                let location = "\(groupLocation):\(rule.alert ?? rule.record ?? "rules[\(ruleIndex)]")"
                do {
                    _ = try CompiledRule(rule, groupLabels: group.labels ?? [:], field: "rule")
                } catch {
                    report.problems.append(Problem(location: location, message: error.description.replacingOccurrences(of: "rule.", with: "")))
                    continue
                }
                if let store {
                    do {
                        _ = try await store.query(rule.expr, at: now)
                    } catch {
                        report.problems.append(Problem(location: location, message: error.description))
                    }
                }
            }
        }
        return report
    }

    /// The groups of a Prometheus rule file, strictly decoded.
    public static func groups(fromYAML yaml: String) throws -> [RuleGroup] { try decode(yaml).groups }

    /// YAML → JSON → the closed schema, so misspelled keys are reported rather than ignored.
    static func decode(_ yaml: String) throws -> RuleFile {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: yaml)
        } catch {
            throw ValidationError(field: "", reason: "not valid YAML: \("\(error)".split(separator: "\n").first ?? "")")
        }
        guard let object = loaded as? [String: Any] else { throw ValidationError(field: "", reason: "expected a mapping with `groups`") }
        let data = try JSONSerialization.data(withJSONObject: object)
        return try StrictJSON.decodeClosed(RuleFile.self, from: data)
    }
}
