import Foundation
import ServiceSupport
import Yams

/// The customer's ceiling on what may leave their account, read from the agent's Helm values (a file
/// the customer's change control owns). It is applied after the workspace's alert allowlist, which
/// Qbeast writes: the controller can narrow what crosses, never widen it past this.
public struct DataBoundary: Sendable {
    /// Labels that name where a problem is, not what the data is: allowed by default.
    public static let safeLabels = ["alertname", "severity", "workspace", "job", "instance", "namespace", "pod", "container", "service"]
    public static let defaultAnnotations = ["summary", "description"]
    /// What replaces a redacted value or match.
    public static let redacted = "[redacted]"

    /// What happens to a label or annotation value that breaks the ceiling (too long): never sent either way.
    public enum Violation: String, Codable, Sendable {
        case drop, redact
    }

    /// Label names allowed to cross, besides the keys of a rule's own constant `labels:`.
    public var labels: Set<String> = Set(safeLabels)
    public var annotations: Set<String> = Set(defaultAnnotations)
    public var maxLabelValueLength = 256
    public var maxAnnotationLength = 1024
    /// The whole alert as JSON; beyond it annotations go first, then labels outside `alertname`/`severity`.
    public var maxAlertBytes = 4096
    /// Prometheus' `query` template function reads any series; off unless the customer turns it on.
    public var allowQueryFunction = false
    /// Regular expressions; every match in a label value, annotation or status message becomes `[redacted]`.
    public var redactPatterns: [NSRegularExpression] = []
    public var onViolation = Violation.drop
    /// The firing sample's value; an annotation that templates `$value` is the explicit way to show it.
    public var sendSampleValue = false
    /// Condition, component and object messages in status (Kubernetes API and metrics-store words).
    public var maxStatusMessageLength = 512

    /// No ceiling at all: for local tools where nothing leaves (`test-rules`, benchmarks, conformance with vmalert).
    public var unrestricted = false

    public init() {}

    public static let `default` = DataBoundary()

    public static let unrestricted: DataBoundary = {
        var boundary = DataBoundary()
        boundary.unrestricted = true
        boundary.allowQueryFunction = true
        boundary.sendSampleValue = true
        return boundary
    }()

    /// The labels templates may read: nil (all) without a ceiling.
    var templateLabels: Set<String>? { unrestricted ? nil : labels }

    /// Reads the ceiling from YAML (the chart renders `boundary:` of its values into this file).
    /// Unknown keys are refused, so a misspelt setting is never silently the default.
    public static func load(path: String) throws(ConfigurationError) -> DataBoundary {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigurationError(setting: "boundaryFile", reason: "cannot read \(path): \(error.localizedDescription)")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String = "boundary") throws(ConfigurationError) -> DataBoundary {
        let file: BoundaryFile
        do {
            file = try YAMLDecoder().decode(BoundaryFile.self, from: text.isEmpty ? "{}" : text)
        } catch let error as BoundaryFile.UnknownSetting {
            throw ConfigurationError(setting: "boundaryFile", reason: "\(source): unknown setting \"\(error.name)\"")
        } catch DecodingError.dataCorrupted(let context) where context.underlyingError is BoundaryFile.UnknownSetting {
            let name = (context.underlyingError as? BoundaryFile.UnknownSetting)?.name ?? ""
            throw ConfigurationError(setting: "boundaryFile", reason: "\(source): unknown setting \"\(name)\"")
        } catch {
            throw ConfigurationError(setting: "boundaryFile", reason: "\(source): \(BoundaryFile.explain(error))")
        }
        return try file.boundary(source: source)
    }
}

/// The file's shape: every key optional, defaults from `DataBoundary`.
struct BoundaryFile: Decodable {
    var labels: [String]?
    var extraLabels: [String]?
    var annotations: [String]?
    var maxLabelValueLength: Int?
    var maxAnnotationLength: Int?
    var maxAlertBytes: Int?
    var allowQueryFunction: Bool?
    var redactPatterns: [String]?
    var onViolation: DataBoundary.Violation?
    var sendSampleValue: Bool?
    var maxStatusMessageLength: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case labels, extraLabels, annotations, maxLabelValueLength, maxAnnotationLength, maxAlertBytes, allowQueryFunction
        case redactPatterns, onViolation, sendSampleValue, maxStatusMessageLength
    }

    struct UnknownSetting: Error { var name: String }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw UnknownSetting(name: unknown.stringValue)
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        labels = try container.decodeIfPresent([String].self, forKey: .labels)
        extraLabels = try container.decodeIfPresent([String].self, forKey: .extraLabels)
        annotations = try container.decodeIfPresent([String].self, forKey: .annotations)
        maxLabelValueLength = try container.decodeIfPresent(Int.self, forKey: .maxLabelValueLength)
        maxAnnotationLength = try container.decodeIfPresent(Int.self, forKey: .maxAnnotationLength)
        maxAlertBytes = try container.decodeIfPresent(Int.self, forKey: .maxAlertBytes)
        allowQueryFunction = try container.decodeIfPresent(Bool.self, forKey: .allowQueryFunction)
        redactPatterns = try container.decodeIfPresent([String].self, forKey: .redactPatterns)
        onViolation = try container.decodeIfPresent(DataBoundary.Violation.self, forKey: .onViolation)
        sendSampleValue = try container.decodeIfPresent(Bool.self, forKey: .sendSampleValue)
        maxStatusMessageLength = try container.decodeIfPresent(Int.self, forKey: .maxStatusMessageLength)
    }

    func boundary(source: String) throws(ConfigurationError) -> DataBoundary {
        func fail(_ key: CodingKeys, _ reason: String) -> ConfigurationError {
            ConfigurationError(setting: "boundaryFile", reason: "\(source): \(key.rawValue) \(reason)")
        }
        func positive(_ value: Int?, _ key: CodingKeys, _ fallback: Int) throws(ConfigurationError) -> Int {
            guard let value else { return fallback }
            guard value > 0 else { throw fail(key, "must be a positive number, not \(value)") }
            return value
        }
        var boundary = DataBoundary()
        if let labels { boundary.labels = Set(labels) }
        boundary.labels.formUnion(extraLabels ?? [])
        boundary.labels.insert("alertname")
        if let annotations { boundary.annotations = Set(annotations) }
        boundary.maxLabelValueLength = try positive(maxLabelValueLength, .maxLabelValueLength, boundary.maxLabelValueLength)
        boundary.maxAnnotationLength = try positive(maxAnnotationLength, .maxAnnotationLength, boundary.maxAnnotationLength)
        boundary.maxAlertBytes = try positive(maxAlertBytes, .maxAlertBytes, boundary.maxAlertBytes)
        boundary.maxStatusMessageLength = try positive(maxStatusMessageLength, .maxStatusMessageLength, boundary.maxStatusMessageLength)
        boundary.allowQueryFunction = allowQueryFunction ?? false
        boundary.sendSampleValue = sendSampleValue ?? false
        boundary.onViolation = onViolation ?? .drop
        for (index, pattern) in (redactPatterns ?? []).enumerated() {
            do {
                boundary.redactPatterns.append(try NSRegularExpression(pattern: pattern))
            } catch {
                throw ConfigurationError(setting: "boundaryFile", reason: "\(source): redactPatterns[\(index)] is not a regular expression")
            }
        }
        return boundary
    }

    static func explain(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(let type, let context), DecodingError.valueNotFound(let type, let context):
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")) must be \(type)"
        case DecodingError.dataCorrupted(let context):
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default: "not a YAML mapping of boundary settings (\(error))"
        }
    }
}
