/// Walks a parsed template the way Go's text/template executes one (exec.go): the same variable
/// scoping, argument conversion, short-circuiting and error wording. One executor per render.
final class Executor {
    private let data: TemplateData
    private let context: FunctionContext
    /// Go's variable stack: pushed by declarations, popped at the end of the enclosing control.
    private var variables: [(name: String, value: Value)]
    private(set) var output = ""
    private let limits: TemplateLimits
    private var steps = 0
    /// Where a limit error on a text node points: the pipeline evaluated last (text has no position).
    private var lastSite = Site.name(0, "text")

    init(data: TemplateData, limits: TemplateLimits = .default) {
        self.data = data
        self.limits = limits
        context = FunctionContext(data: data)
        // What Prometheus' "{{$labels := .Labels}}..." header declares.
        variables = [
            ("$", .root(data)), ("$labels", .labels(data.labels)), ("$externalLabels", .labels(data.externalLabels)),
            ("$externalURL", .string(data.externalURL)), ("$value", .float(data.value)),
        ]
    }

    func run(_ nodes: [Node]) async throws {
        _ = try await walk(nodes, dot: .root(data))
    }

    // MARK: Control flow

    private enum Flow { case normal, breakLoop, continueLoop }

    private func walk(_ nodes: [Node], dot: Value) async throws -> Flow {
        for node in nodes {
            let flow = try await walk(node, dot: dot)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func walk(_ node: Node, dot: Value) async throws -> Flow {
        let site = Site(node) ?? lastSite
        try step(site)
        switch node {
        case .text(let text):
            try write(text, at: site)
        case .action(let pipe):
            let value = try await evalPipeline(pipe, dot: dot)
            // Declarations don't print; their variables live until the enclosing {{end}}.
            if pipe.declarations.isEmpty { try write(GoFormat.printed(value), at: site) }
        case .ifElse(let pipe, let list, let elseList):
            return try await walkIfOrWith(pipe, list, elseList, dot: dot, setsDot: false)
        case .with(let pipe, let list, let elseList):
            return try await walkIfOrWith(pipe, list, elseList, dot: dot, setsDot: true)
        case .range(let pipe, let list, let elseList):
            return try await walkRange(pipe, list, elseList, dot: dot)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private func walkIfOrWith(_ pipe: Pipeline, _ list: [Node], _ elseList: [Node]?, dot: Value, setsDot: Bool) async throws -> Flow {
        let mark = variables.count
        defer { popVariables(to: mark) }
        let value = try await evalPipeline(pipe, dot: dot)
        if value.isTrue {
            return try await walk(list, dot: setsDot ? value : dot)
        }
        if let elseList {
            return try await walk(elseList, dot: dot)
        }
        return .normal
    }

    private func walkRange(_ pipe: Pipeline, _ list: [Node], _ elseList: [Node]?, dot: Value) async throws -> Flow {
        let outerMark = variables.count
        defer { popVariables(to: outerMark) }
        let collection = try await evalPipeline(pipe, dot: dot)
        let mark = variables.count
        let declarations = pipe.declarations

        /// Binds the range variables (the element; with two, the index first) and runs the body.
        func iterate(index: Value, element: Value) async throws -> Flow {
            defer { popVariables(to: mark) }
            if let first = declarations.first {
                if pipe.isAssign {
                    try setVariable(first, declarations.count > 1 ? index : element, at: .pipeline(pipe))
                } else {
                    variables[variables.count - 1].value = element
                }
            }
            if declarations.count > 1 {
                if pipe.isAssign {
                    try setVariable(declarations[1], element, at: .pipeline(pipe))
                } else {
                    variables[variables.count - 2].value = index
                }
            }
            return try await walk(list, dot: element)
        }

        var elements: [(Value, Value)] = []
        switch collection {
        case .int(let count):
            if declarations.count > 1 {
                throw failure(.pipeline(pipe), "can't use \(count) to iterate over more than one variable")
            }
            // Counted, not materialised: `range 1000000000` must stop at the step limit, not allocate.
            if count <= 0 {
                if let elseList { return try await walk(elseList, dot: dot) }
                return .normal
            }
            for element in 0..<count {
                try step(.pipeline(pipe))
                if try await iterate(index: .invalid, element: .int(element)) == .breakLoop { break }
            }
            return .normal
        case .samples(let samples):
            elements = samples.enumerated().map { (.int($0.offset), .sample($0.element)) }
        case .labels(let labels):
            elements = Array.goSorted(labels.keys).map { (.string($0), .string(labels[$0] ?? "")) }
        case .dictionary(let dictionary):
            elements = Array.goSorted(dictionary.keys).map { (.string($0), dictionary[$0] ?? .invalid) }
        case .invalid:
            break  // Like a nil map: nothing to iterate.
        default:
            throw failure(.pipeline(pipe), "range can't iterate over \(GoFormat.formatValue(collection))")
        }
        if elements.isEmpty {
            if let elseList { return try await walk(elseList, dot: dot) }
            return .normal
        }
        for (index, element) in elements {
            try step(.pipeline(pipe))
            if try await iterate(index: index, element: element) == .breakLoop { break }
        }
        return .normal
    }

    // MARK: Limits

    /// Counts one unit of work; a render that runs past the limit stops with an error.
    private func step(_ site: Site) throws {
        steps += 1
        if steps > limits.maxSteps {
            throw failure(site, "execution took more than \(limits.maxSteps) steps")
        }
    }

    private func write(_ text: String, at site: Site) throws {
        output += text
        if output.utf8.count > limits.maxOutputBytes {
            throw failure(site, "output is longer than the limit of \(limits.maxOutputBytes) bytes")
        }
    }

    // MARK: Variables

    private func popVariables(to mark: Int) {
        if variables.count > mark { variables.removeSubrange(mark...) }
    }

    private func variable(_ name: String, at site: Site) throws -> Value {
        var index = variables.count - 1
        while index >= 0 {
            if variables[index].name == name { return variables[index].value }
            index -= 1
        }
        throw failure(site, "undefined variable: \(name)")
    }

    private func setVariable(_ name: String, _ value: Value, at site: Site) throws {
        var index = variables.count - 1
        while index >= 0 {
            if variables[index].name == name {
                variables[index].value = value
                return
            }
            index -= 1
        }
        throw failure(site, "undefined variable: \(name)")
    }

    // MARK: Pipelines and commands

    private func evalPipeline(_ pipe: Pipeline, dot: Value) async throws -> Value {
        lastSite = .pipeline(pipe)
        var value: Value?  // nil: no previous command to pass along as the final argument.
        for command in pipe.commands {
            value = try await evalCommand(command, dot: dot, final: value)
        }
        let result = value ?? .invalid
        for name in pipe.declarations {
            if pipe.isAssign {
                try setVariable(name, result, at: .pipeline(pipe))
            } else {
                variables.append((name, result))
            }
        }
        return result
    }

    private func evalCommand(_ command: Command, dot: Value, final: Value?) async throws -> Value {
        try step(.command(command))
        let first = command.arguments[0]
        switch first {
        case .field(_, let names):
            return try await evalFieldChain(dot: dot, receiver: dot, site: .operand(first), names: names, arguments: command.arguments[...], final: final)
        case .chain(_, let base, let fields):
            let receiver = try await evalChainBase(base, dot: dot, site: first)
            return try await evalFieldChain(dot: dot, receiver: receiver, site: .operand(first), names: fields, arguments: command.arguments[...], final: final)
        case .function(let pos, let function):
            return try await evalCall(
                function, dot: dot, callSite: .command(command), calleeSite: .name(pos, function.name),
                arguments: command.arguments.dropFirst(), final: final)
        case .pipeline(let pipe):
            try notAFunction(command.arguments, final, site: .operand(first))
            return try await evalPipeline(pipe, dot: dot)
        case .variable(_, let name, let fields):
            let value = try variable(name, at: .operand(first))
            if fields.isEmpty {
                try notAFunction(command.arguments, final, site: .operand(first))
                return value
            }
            return try await evalFieldChain(dot: dot, receiver: value, site: .operand(first), names: fields, arguments: command.arguments[...], final: final)
        case .bool(_, let bool):
            try notAFunction(command.arguments, final, site: .operand(first))
            return .bool(bool)
        case .dot:
            try notAFunction(command.arguments, final, site: .operand(first))
            return dot
        case .nilValue:
            try notAFunction(command.arguments, final, site: .operand(first))
            throw failure(.operand(first), "nil is not a command")
        case .number(_, let literal):
            try notAFunction(command.arguments, final, site: .operand(first))
            return try idealConstant(literal, site: first)
        case .string(_, _, let value):
            try notAFunction(command.arguments, final, site: .operand(first))
            return .string(value)
        }
    }

    private func notAFunction(_ arguments: [Operand], _ final: Value?, site: Site) throws {
        if arguments.count > 1 || final != nil {
            throw failure(site, "can't give argument to non-function \(arguments[0])")
        }
    }

    private func idealConstant(_ literal: NumberLiteral, site: Operand) throws -> Value {
        do {
            return try literal.idealConstant()
        } catch {
            throw failure(.operand(site), error.message)
        }
    }

    private func evalChainBase(_ base: Operand, dot: Value, site: Operand) async throws -> Value {
        if case .nilValue = base { throw failure(.operand(site), "indirection through explicit nil in \(site)") }
        return try await evalArgument(base, dot: dot, type: nil)
    }

    // MARK: Fields and methods

    /// .X.Y.Z, where the last name may be a method taking the command's arguments.
    private func evalFieldChain(
        dot: Value, receiver: Value, site: Site, names: [String], arguments: ArraySlice<Operand>,
        final: Value?
    ) async throws -> Value {
        var receiver = receiver
        var declaredType: String?
        for name in names.dropLast() {
            let field = try await evalField(name, of: receiver, declaredType: declaredType, dot: dot, site: site, arguments: [], final: nil)
            // `Value` fields are interface{} in Go, and errors about their fields say so.
            declaredType = name == "Value" && receiver.hasInterfaceValueField ? "interface {}" : nil
            receiver = field
        }
        return try await evalField(
            names[names.count - 1], of: receiver, declaredType: declaredType, dot: dot, site: site,
            arguments: arguments, final: final)
    }

    /// `arguments` includes the field itself first, as in Go (a shell-like argv).
    private func evalField(
        _ name: String, of receiver: Value, declaredType: String? = nil, dot: Value, site: Site,
        arguments: ArraySlice<Operand>, final: Value?
    ) async throws -> Value {
        if case .invalid = receiver { return .invalid }  // missingkey=zero: nothing in, nothing out.
        if let method = TimeFunctions.method(name, of: receiver) {
            return try await evalCall(method, dot: dot, callSite: site, calleeSite: site, arguments: arguments.dropFirst(), final: final)
        }
        let hasArguments = arguments.count > 1 || final != nil
        let field: Value?
        switch receiver {
        case .root(let data):
            field =
                switch name {
                case "Labels": .labels(data.labels)
                case "ExternalLabels": .labels(data.externalLabels)
                case "ExternalURL": .string(data.externalURL)
                case "Value": .float(data.value)
                default: nil
                }
        case .sample(let sample):
            field =
                switch name {
                case "Labels": .labels(sample.labels)
                case "Value": .float(sample.value)
                default: nil
                }
        case .labels(let labels):
            if hasArguments { throw failure(site, "\(name) is not a method but has arguments") }
            // Prometheus runs with missingkey=zero: a missing label is "".
            return .string(labels[name] ?? "")
        case .dictionary(let dictionary):
            if hasArguments { throw failure(site, "\(name) is not a method but has arguments") }
            return dictionary[name] ?? .invalid
        default:
            field = nil
        }
        guard let field else { throw failure(site, "can't evaluate field \(name) in type \(declaredType ?? receiver.typeName)") }
        if hasArguments { throw failure(site, "\(name) has arguments but cannot be invoked as function") }
        return field
    }

    // MARK: Calls

    private func evalCall(
        _ function: TemplateFunction, dot: Value, callSite: Site, calleeSite: Site, arguments: ArraySlice<Operand>,
        final: Value?
    ) async throws -> Value {
        let argumentCount = arguments.count + (final == nil ? 0 : 1)
        let fixed = function.parameters.count
        if function.variadic != nil {
            if argumentCount < fixed {
                throw failure(calleeSite, "wrong number of args for \(function.name): want at least \(fixed) got \(arguments.count)")
            }
        } else if argumentCount != fixed {
            throw failure(calleeSite, "wrong number of args for \(function.name): want \(fixed) got \(argumentCount)")
        }

        if case .and = function.kind { return try await shortCircuit(arguments, final: final, dot: dot, stopWhen: false) }
        if case .or = function.kind { return try await shortCircuit(arguments, final: final, dot: dot, stopWhen: true) }

        var values: [Value] = []
        values.reserveCapacity(argumentCount)
        for (index, argument) in arguments.enumerated() {
            values.append(try await evalArgument(argument, dot: dot, type: function.parameterType(at: index)))
        }
        if let final {
            values.append(try validate(final, as: function.parameterType(at: argumentCount - 1), site: callSite))
        }

        let result: Value
        do {
            switch function.kind {
            case .plain(let body):
                result = try body(values, context)
            case .query:
                result = try await QueryFunctions.run(values[0].stringArgument, data)
            case .and, .or:
                return .invalid  // Handled above.
            }
        } catch let error as FunctionError {
            throw failure(callSite, "error calling \(function.name): \(error.message)")
        }
        if case .string(let text) = result, text.utf8.count > limits.maxOutputBytes {
            throw failure(callSite, "error calling \(function.name): result is longer than the limit of \(limits.maxOutputBytes) bytes")
        }
        return result
    }

    /// and/or: evaluate left to right, stop at the first false (and) or true (or) value and return
    /// it; otherwise the last value, which may be the pipeline's.
    private func shortCircuit(_ arguments: ArraySlice<Operand>, final: Value?, dot: Value, stopWhen truth: Bool) async throws -> Value {
        var value = Value.invalid
        for argument in arguments {
            value = try await evalArgument(argument, dot: dot, type: .any)
            if value.isTrue == truth { return value }
        }
        return final ?? value
    }

    /// Evaluates an argument for a parameter of `type` (nil: no type, as for a chain's base).
    private func evalArgument(_ argument: Operand, dot: Value, type: ParameterType?) async throws -> Value {
        let site = Site.operand(argument)
        switch argument {
        case .dot:
            return try validate(dot, as: type, site: site)
        case .nilValue:
            switch type {
            case nil, .any, .sample: return .invalid
            case .samples: return .samples([])
            case .string, .duration: throw failure(site, "cannot assign nil to \(type?.goName ?? "")")
            }
        case .field(_, let names):
            return try validate(
                try await evalFieldChain(dot: dot, receiver: dot, site: site, names: names, arguments: [argument], final: nil),
                as: type, site: site)
        case .variable(_, let name, let fields):
            var value = try variable(name, at: site)
            if !fields.isEmpty {
                value = try await evalFieldChain(dot: dot, receiver: value, site: site, names: fields, arguments: [], final: nil)
            }
            return try validate(value, as: type, site: site)
        case .pipeline(let pipe):
            return try validate(try await evalPipeline(pipe, dot: dot), as: type, site: site)
        case .function(let pos, let function):
            let value = try await evalCall(function, dot: dot, callSite: site, calleeSite: .name(pos, function.name), arguments: [], final: nil)
            return try validate(value, as: type, site: site)
        case .chain(_, let base, let fields):
            let receiver = try await evalChainBase(base, dot: dot, site: argument)
            return try validate(
                try await evalFieldChain(dot: dot, receiver: receiver, site: site, names: fields, arguments: [], final: nil),
                as: type, site: site)
        case .bool(_, let bool):
            switch type {
            case nil, .any: return .bool(bool)
            default: throw literalMismatch(argument, type)
            }
        case .number(_, let literal):
            switch type {
            case nil, .any: return try idealConstant(literal, site: argument)
            case .duration where literal.isInt: return .duration(literal.int)
            case .duration: throw failure(site, "expected integer; found \(argument)")
            default: throw literalMismatch(argument, type)
            }
        case .string(_, _, let value):
            switch type {
            case nil, .any, .string: return .string(value)
            default: throw literalMismatch(argument, type)
            }
        }
    }

    private func literalMismatch(_ argument: Operand, _ type: ParameterType?) -> ExecFailure {
        switch type {
        case .string: failure(.operand(argument), "expected string; found \(argument)")
        case .duration: failure(.operand(argument), "expected integer; found \(argument)")
        default: failure(.operand(argument), "can't handle \(argument) for arg of type \(type?.goName ?? "")")
        }
    }

    /// Go's validateType: the value must be assignable to the parameter's type.
    private func validate(_ value: Value, as type: ParameterType?, site: Site) throws -> Value {
        switch (type, value) {
        case (nil, _), (.any, _), (.string, .string), (.duration, .duration), (.sample, .sample), (.samples, .samples):
            return value
        case (.sample, .invalid):
            return .invalid  // A nil pointer; the function fails when it dereferences it.
        case (.samples, .invalid):
            return .samples([])
        case (.some(let type), .invalid):
            throw failure(site, "invalid value; expected \(type.goName)")
        case (.some(let type), _):
            throw failure(site, "wrong type for value; expected \(type.goName); got \(value.typeName)")
        }
    }

    // MARK: Errors

    /// Where an error happened, and how Go names that node in "at <...>".
    private enum Site {
        case operand(Operand)
        case command(Command)
        case pipeline(Pipeline)
        case name(Int, String)

        /// The node's own pipeline; nil for nodes without a position (text, break, continue).
        init?(_ node: Node) {
            switch node {
            case .action(let pipe), .ifElse(let pipe, _, _), .with(let pipe, _, _), .range(let pipe, _, _): self = .pipeline(pipe)
            case .text, .breakLoop, .continueLoop: return nil
            }
        }

        var pos: Int {
            switch self {
            case .operand(let operand): operand.pos
            case .command(let command): command.pos
            case .pipeline(let pipe): pipe.pos
            case .name(let pos, _): pos
            }
        }

        var description: String {
            switch self {
            case .operand(let operand): operand.description
            case .command(let command): command.description
            case .pipeline(let pipe): pipe.description
            case .name(_, let name): name
            }
        }
    }

    private func failure(_ site: Site, _ message: String) -> ExecFailure {
        ExecFailure(offset: site.pos, context: site.description, message: message)
    }
}
