/// Prometheus' functions for query results: `query` runs PromQL through TemplateData.query; the
/// rest take its result (template.queryResult) or one element of it (*template.sample).
enum QueryFunctions {
    static let functions: [TemplateFunction] = [
        TemplateFunction("query", [.string], kind: .query),
        TemplateFunction("first", [.samples]) { arguments, _ throws(FunctionError) in
            guard let first = arguments[0].samplesArgument.first else {
                throw FunctionError("first() called on vector with no elements")
            }
            return .sample(first)
        },
        TemplateFunction("label", [.string, .sample]) { arguments, _ throws(FunctionError) in
            .string(try arguments[1].sampleArgument().labels[arguments[0].stringArgument] ?? "")
        },
        TemplateFunction("value", [.sample]) { arguments, _ throws(FunctionError) in
            .float(try arguments[0].sampleArgument().value)
        },
        TemplateFunction("strvalue", [.sample]) { arguments, _ throws(FunctionError) in
            .string(try arguments[0].sampleArgument().labels["__value__"] ?? "")
        },
        TemplateFunction("sortByLabel", [.string, .samples]) { arguments, _ in
            .samples(sortedStably(arguments[1].samplesArgument, by: arguments[0].stringArgument))
        },
        TemplateFunction("args", [], variadic: .any) { arguments, _ in
            var dictionary: [String: Value] = [:]
            for (index, argument) in arguments.enumerated() { dictionary["arg\(index)"] = argument }
            return .dictionary(dictionary)
        },
    ]

    /// sort.Stable by one label's value, compared byte-wise like Go strings.
    private static func sortedStably(_ samples: [QuerySample], by label: String) -> [QuerySample] {
        samples.enumerated().sorted { left, right in
            let a = left.element.labels[label] ?? "", b = right.element.labels[label] ?? ""
            if a == b { return left.offset < right.offset }
            return a.utf8.lexicographicallyPrecedes(b.utf8)
        }.map(\.element)
    }

    /// Calls the metrics store for `query`.
    static func run(_ expression: String, _ data: TemplateData) async throws -> Value {
        guard let query = data.query else {
            throw FunctionError("no query function is configured")
        }
        do {
            return .samples(try await query(expression))
        } catch let error as CancellationError {
            throw error
        } catch {
            throw FunctionError("\(error)")
        }
    }
}
