import Foundation

/// A sample of a query result, as `query` returns them to templates.
public struct QuerySample: Sendable, Equatable {
    public var labels: [String: String]
    public var value: Double
    public init(labels: [String: String], value: Double) {
        self.labels = labels
        self.value = value
    }
}

public struct TemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// What a rule's templates see: `.Labels`/`$labels`, `.Value`/`$value`, `.ExternalLabels`/`$externalLabels`,
/// `.ExternalURL`/`$externalURL`, and the store behind `query`.
public struct TemplateData: Sendable {
    public var labels: [String: String]
    public var value: Double
    public var externalLabels: [String: String]
    public var externalURL: String
    public var query: (@Sendable (String) async throws -> [QuerySample])?

    public init(labels: [String: String] = [:], value: Double = 0, externalLabels: [String: String] = [:], externalURL: String = "",
                query: (@Sendable (String) async throws -> [QuerySample])? = nil) {
        self.labels = labels
        self.value = value
        self.externalLabels = externalLabels
        self.externalURL = externalURL
        self.query = query
    }
}

/// A Go text/template as Prometheus expands alert labels and annotations: parsed once (so a broken
/// template is an error when the rule arrives), rendered per alert.
public struct AlertTemplate: Sendable {
    let nodes: [TemplateNode]
    let name: String

    public init(_ text: String, name: String = "template") throws {
        var parser = TemplateParser(name: name, functions: Set(TemplateFunctions.names))
        nodes = try parser.parse(text)
        self.name = name
    }

    public func render(_ data: TemplateData) async throws -> String {
        let dot = TemplateValue.object([
            "Labels": .labels(data.labels), "Value": .number(data.value),
            "ExternalLabels": .labels(data.externalLabels), "ExternalURL": .string(data.externalURL),
        ])
        var executor = TemplateExecutor(name: name, query: data.query)
        executor.scopes = [[
            "$": dot, "$labels": .labels(data.labels), "$value": .number(data.value),
            "$externalLabels": .labels(data.externalLabels), "$externalURL": .string(data.externalURL),
        ]]
        var output = ""
        try await executor.run(nodes, dot: dot, into: &output)
        return output
    }
}
