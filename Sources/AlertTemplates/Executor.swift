import Foundation

/// Walks parsed nodes with Go text/template's semantics for the supported subset.
struct TemplateExecutor {
    let name: String
    let query: (@Sendable (String) async throws -> [QuerySample])?
    var scopes: [[String: TemplateValue]] = []

    mutating func run(_ nodes: [TemplateNode], dot: TemplateValue, into output: inout String) async throws(TemplateError) {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .action(let pipeline):
                let value = try await evaluate(pipeline, dot: dot)
                if pipeline.variables.isEmpty { output += value.printed }
            case .ifNode(let branches, let otherwise):
                var taken = false
                for (condition, body) in branches where try await evaluate(condition, dot: dot).isTruthy {
                    try await scoped(body, dot: dot, into: &output)
                    taken = true
                    break
                }
                if !taken, let otherwise { try await scoped(otherwise, dot: dot, into: &output) }
            case .with(let pipeline, let body, let otherwise):
                let value = try await evaluate(pipeline, dot: dot)
                if value.isTruthy {
                    try await scoped(body, dot: value, into: &output)
                } else if let otherwise {
                    try await scoped(otherwise, dot: dot, into: &output)
                }
            case .range(let pipeline, let body, let otherwise):
                let collection = try await evaluate(Pipeline(commands: pipeline.commands, position: pipeline.position), dot: dot)
                let elements: [(TemplateValue, TemplateValue)]
                switch collection {
                case .labels(let map): elements = map.keys.sorted().map { (.string($0), .string(map[$0]!)) }
                case .object(let map): elements = map.keys.sorted().map { (.string($0), map[$0]!) }
                case .samples(let list): elements = list.enumerated().map { (.integer($0.offset), .sample($0.element)) }
                case .null: elements = []
                case .integer(let count): elements = (0..<max(0, count)).map { (.integer($0), .integer($0)) }
                default: throw failure(pipeline, "range can't iterate over \(collection.printed)")
                }
                if elements.isEmpty, let otherwise { try await scoped(otherwise, dot: dot, into: &output); continue }
                for (key, element) in elements {
                    scopes.append([:])
                    switch pipeline.variables.count {
                    case 1: scopes[scopes.count - 1][pipeline.variables[0]] = element
                    case 2:
                        scopes[scopes.count - 1][pipeline.variables[0]] = key
                        scopes[scopes.count - 1][pipeline.variables[1]] = element
                    default: break
                    }
                    try await run(body, dot: element, into: &output)
                    scopes.removeLast()
                }
            }
        }
    }

    private mutating func scoped(_ nodes: [TemplateNode], dot: TemplateValue, into output: inout String) async throws(TemplateError) {
        scopes.append([:])
        try await run(nodes, dot: dot, into: &output)
        scopes.removeLast()
    }

    mutating func evaluate(_ pipeline: Pipeline, dot: TemplateValue) async throws(TemplateError) -> TemplateValue {
        var result: TemplateValue?
        for command in pipeline.commands {
            result = try await evaluateCommand(command, dot: dot, piped: result, pipeline: pipeline)
        }
        let value = result ?? .null
        if !pipeline.variables.isEmpty {
            if pipeline.isAssignment, let index = scopes.lastIndex(where: { $0[pipeline.variables[0]] != nil }) {
                scopes[index][pipeline.variables[0]] = value
            } else if pipeline.isAssignment {
                throw failure(pipeline, "undefined variable: \(pipeline.variables[0])")
            } else {
                scopes[scopes.count - 1][pipeline.variables[0]] = value
            }
        }
        return value
    }

    private mutating func evaluateCommand(_ command: [Operand], dot: TemplateValue, piped: TemplateValue?, pipeline: Pipeline) async throws(TemplateError) -> TemplateValue {
        if case .identifier(let function) = command[0] {
            var arguments: [TemplateValue] = []
            for operand in command.dropFirst() { arguments.append(try await value(of: operand, dot: dot, pipeline: pipeline)) }
            if let piped { arguments.append(piped) }
            do {
                return try await TemplateFunctions.call(function, arguments, query: query)
            } catch {
                throw failure(pipeline, "error calling \(function): \(error.message)")
            }
        }
        guard command.count == 1, piped == nil else {
            throw failure(pipeline, "can't give argument to non-function \(command.count > 1 ? "value" : "pipeline result")")
        }
        return try await value(of: command[0], dot: dot, pipeline: pipeline)
    }

    private mutating func value(of operand: Operand, dot: TemplateValue, pipeline: Pipeline) async throws(TemplateError) -> TemplateValue {
        switch operand {
        case .string(let text): return .string(text)
        case .number(let value, let isInteger): return isInteger ? .integer(Int(value)) : .number(value)
        case .bool(let value): return .bool(value)
        case .null: return .null
        case .identifier(let function):
            do { return try await TemplateFunctions.call(function, [], query: query) } catch { throw failure(pipeline, "error calling \(function): \(error.message)") }
        case .pipeline(let inner): return try await evaluate(inner, dot: dot)
        case .field(let path): return try lookup(dot, path, pipeline: pipeline)
        case .variable(let name, let path):
            guard let variable = scopes.last(where: { $0[name] != nil })?[name] else {
                throw failure(pipeline, "undefined variable \"\(name)\"")
            }
            return try lookup(variable, path, pipeline: pipeline)
        }
    }

    private func lookup(_ base: TemplateValue, _ path: [String], pipeline: Pipeline) throws(TemplateError) -> TemplateValue {
        var current = base
        for key in path {
            switch current {
            // A missing key of a label map is Go's invalid value: printed "<no value>", false in `if`.
            case .labels(let map): current = map[key].map(TemplateValue.string) ?? .null
            case .object(let map): current = map[key] ?? .null
            case .sample(let sample) where key == "Labels": current = .labels(sample.labels)
            case .sample(let sample) where key == "Value": current = .number(sample.value)
            case .null: return .null
            default: throw failure(pipeline, "can't evaluate field \(key) in type \(current.typeName)")
            }
        }
        return current
    }

    private func failure(_ pipeline: Pipeline, _ message: String) -> TemplateError {
        TemplateError(message: "template: \(name):\(pipeline.position): executing \"\(name)\": \(message)")
    }
}
