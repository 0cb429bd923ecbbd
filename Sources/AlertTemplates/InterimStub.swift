// Interim stand-in with the engine's public API, replaced by the real Go-template engine.
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
    public var description: String { message }
}

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

public struct AlertTemplate: Sendable {
    let text: String
    public init(_ text: String, name: String = "template") throws { self.text = text }
    public func render(_ data: TemplateData) async throws -> String { text }
}
