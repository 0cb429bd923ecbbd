import Foundation

@testable import AlertTemplates

/// Renders `text` against `data`.
func render(_ text: String, _ data: TemplateData = TemplateData()) async throws -> String {
    try await AlertTemplate(text).render(data)
}

/// The message of the error parsing or rendering `text` throws, or nil when it succeeds.
func failure(_ text: String, _ data: TemplateData = TemplateData(), name: String = "template") async -> String? {
    do {
        _ = try await AlertTemplate(text, name: name).render(data)
        return nil
    } catch let error as TemplateError {
        return error.message
    } catch {
        return "unexpected error: \(error)"
    }
}

/// The message of the parse error for `text`, or nil when it parses.
func parseFailure(_ text: String, name: String = "template") -> String? {
    do {
        _ = try AlertTemplate(text, name: name)
        return nil
    } catch {
        return (error as? TemplateError)?.message ?? "unexpected error: \(error)"
    }
}

/// A query function answering every expression with `samples`.
func answering(_ samples: [QuerySample]) -> @Sendable (String) async throws -> [QuerySample] {
    { _ in samples }
}
