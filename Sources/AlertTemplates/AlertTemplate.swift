import Foundation

/// A Prometheus alert label or annotation template: Go `text/template` syntax with Prometheus'
/// template functions. Parse once when the rule arrives, render once per alert and evaluation.
public struct AlertTemplate: Sendable {
    public let name: String
    public let text: String
    public let limits: TemplateLimits
    let root: [Node]

    /// Parses `text`; throws `TemplateError` with a one-line, position-bearing message for syntax
    /// errors, unknown functions and templates beyond `limits`, at parse time like Go.
    public init(_ text: String, name: String = "template", limits: TemplateLimits = .default) throws {
        self.name = name
        self.text = text
        self.limits = limits
        do {
            var parser = Parser(text: text, name: name, predeclared: HeaderVariables.names, limits: limits)
            root = try parser.parse()
        } catch {
            throw TemplateError(message: Diagnostics.parseMessage(error, template: name, text: text))
        }
    }

    /// Executes against `data`. async because `query` calls out to the metrics store.
    public func render(_ data: TemplateData) async throws -> String {
        let executor = Executor(data: data, limits: limits)
        do {
            try await executor.run(root)
        } catch let failure as ExecFailure {
            throw TemplateError(message: Diagnostics.execMessage(failure, template: name, text: text))
        }
        return executor.output
    }
}

/// What a template sees: `.Labels`/`$labels`, `.Value`/`$value` and so on.
public struct TemplateData: Sendable {
    public var labels: [String: String]
    public var value: Double
    public var externalLabels: [String: String]
    public var externalURL: String
    /// Backs the `query` function; nil makes calling `query` an execution error.
    public var query: (@Sendable (String) async throws -> [QuerySample])?
    /// The rule evaluation time, for `now`; nil means the wall clock at render time.
    public var evaluationTime: Date?

    public init(
        labels: [String: String] = [:], value: Double = 0, externalLabels: [String: String] = [:], externalURL: String = "",
        query: (@Sendable (String) async throws -> [QuerySample])? = nil, evaluationTime: Date? = nil
    ) {
        self.labels = labels
        self.value = value
        self.externalLabels = externalLabels
        self.externalURL = externalURL
        self.query = query
        self.evaluationTime = evaluationTime
    }
}

/// One element of an instant vector, as Prometheus hands query results to templates.
public struct QuerySample: Sendable, Equatable {
    public var labels: [String: String]
    public var value: Double
    public init(labels: [String: String], value: Double) {
        self.labels = labels
        self.value = value
    }
}

/// A parse or execution failure, worded like Go's text/template errors.
public struct TemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}

/// Prometheus prepends `{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}`
/// to every template. Declaring the same variables up front is equivalent and keeps error
/// positions relative to the user's own text.
enum HeaderVariables {
    static let names = ["$", "$labels", "$externalLabels", "$externalURL", "$value"]
}
