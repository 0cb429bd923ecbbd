/// Go text/template's predefined functions (except `call`: templates here have no function values).
enum Builtins {
    static let functions: [TemplateFunction] = [
        TemplateFunction("and", [.any], variadic: .any, kind: .and),
        TemplateFunction("or", [.any], variadic: .any, kind: .or),
        TemplateFunction("not", [.any]) { arguments, _ in .bool(!arguments[0].isTrue) },
        TemplateFunction("len", [.any]) { arguments, _ throws(FunctionError) in try length(arguments[0]) },
        TemplateFunction("index", [.any], variadic: .any) { arguments, _ throws(FunctionError) in
            try index(arguments[0], arguments.dropFirst())
        },
        TemplateFunction("slice", [.any], variadic: .any) { arguments, _ throws(FunctionError) in
            try slice(arguments[0], Array(arguments.dropFirst()))
        },
        TemplateFunction("print", [], variadic: .any) { arguments, _ in .string(GoFormat.sprint(arguments)) },
        TemplateFunction("println", [], variadic: .any) { arguments, _ in .string(GoFormat.sprintln(arguments)) },
        TemplateFunction("printf", [.string], variadic: .any) { arguments, _ in
            .string(GoFormat.sprintf(arguments[0].stringArgument, Array(arguments.dropFirst())))
        },
        TemplateFunction("html", [], variadic: .any) { arguments, _ in .string(Escaping.html(joined(arguments))) },
        TemplateFunction("js", [], variadic: .any) { arguments, _ in .string(Escaping.javaScript(joined(arguments))) },
        TemplateFunction("urlquery", [], variadic: .any) { arguments, _ in .string(Escaping.queryComponent(joined(arguments))) },
    ]

    /// Go's evalArgs for the escapers: a lone string as is, otherwise fmt.Sprint of the printable
    /// forms (a missing value becomes "<no value>").
    static func joined(_ arguments: [Value]) -> String {
        if arguments.count == 1, case .string(let string) = arguments[0] { return string }
        return GoFormat.sprint(
            arguments.map { argument in
                if case .invalid = argument { return .string("<no value>") }
                return argument
            })
    }

    private static func length(_ value: Value) throws(FunctionError) -> Value {
        switch value {
        case .string(let string): return .int(string.utf8.count)
        case .labels(let labels): return .int(labels.count)
        case .dictionary(let dictionary): return .int(dictionary.count)
        case .samples(let samples): return .int(samples.count)
        case .invalid: throw FunctionError("reflect: call of reflect.Value.Type on zero Value")
        default: throw FunctionError("len of type \(dereferencedTypeName(value))")
        }
    }

    /// The type a pointer points to, as Go names it after indirection.
    private static func dereferencedTypeName(_ value: Value) -> String {
        let name = value.typeName
        return name.hasPrefix("*") ? String(name.dropFirst()) : name
    }

    private static func index(_ item: Value, _ keys: ArraySlice<Value>) throws(FunctionError) -> Value {
        if case .invalid = item { throw FunctionError("index of untyped nil") }
        var item = item
        for key in keys {
            switch item {
            case .string(let string):
                let bytes = Array(string.utf8)
                let position = try position(key, limit: bytes.count)
                guard position < bytes.count else { throw FunctionError("reflect: string index out of range") }
                item = .int(Int(bytes[position]))
            case .samples(let samples):
                let position = try position(key, limit: samples.count)
                guard position < samples.count else { throw FunctionError("reflect: slice index out of range") }
                item = .sample(samples[position])
            case .labels(let labels):
                item = .string(labels[try mapKey(key)] ?? "")
            case .dictionary(let dictionary):
                item = dictionary[try mapKey(key)] ?? .invalid
            case .invalid:
                throw FunctionError("index of nil pointer")
            default:
                throw FunctionError("can't index item of type \(dereferencedTypeName(item))")
            }
        }
        return item
    }

    private static func mapKey(_ key: Value) throws(FunctionError) -> String {
        switch key {
        case .string(let string): return string
        case .invalid: throw FunctionError("value is nil; should be of type string")
        default: throw FunctionError("value has type \(key.typeName); should be string")
        }
    }

    /// Go's indexArg: an integer within 0...limit.
    private static func position(_ key: Value, limit: Int) throws(FunctionError) -> Int {
        switch key {
        case .int(let position):
            guard position >= 0 && position <= limit else { throw FunctionError("index out of range: \(position)") }
            return position
        case .invalid:
            throw FunctionError("cannot index slice/array with nil")
        default:
            throw FunctionError("cannot index slice/array with type \(key.typeName)")
        }
    }

    private static func slice(_ item: Value, _ bounds: [Value]) throws(FunctionError) -> Value {
        if case .invalid = item { throw FunctionError("slice of untyped nil") }
        guard bounds.count <= 3 else { throw FunctionError("too many slice indexes: \(bounds.count)") }
        let count: Int
        switch item {
        case .string(let string):
            guard bounds.count < 3 else { throw FunctionError("cannot 3-index slice a string") }
            count = string.utf8.count
        case .samples(let samples):
            count = samples.count
        default:
            throw FunctionError("can't slice item of type \(dereferencedTypeName(item))")
        }
        var limits = [0, count, count]
        for (offset, bound) in bounds.enumerated() {
            limits[offset] = try position(bound, limit: count)
        }
        guard limits[0] <= limits[1] else { throw FunctionError("invalid slice index: \(limits[0]) > \(limits[1])") }
        if bounds.count == 3 && limits[1] > limits[2] { throw FunctionError("invalid slice index: \(limits[1]) > \(limits[2])") }
        switch item {
        case .string(let string):
            return .string(String(decoding: Array(string.utf8)[limits[0]..<limits[1]], as: UTF8.self))
        case .samples(let samples):
            return .samples(Array(samples[limits[0]..<limits[1]]))
        default:
            return item
        }
    }
}
