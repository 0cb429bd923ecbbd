import Foundation

/// The Go parameter type a function declares. Go's text/template converts and checks arguments
/// against it before the call, so it decides which error a wrong argument produces.
enum ParameterType: Sendable {
    /// interface{} (and reflect.Value for the builtins): anything, numbers typed by their spelling.
    case any
    case string
    /// time.Duration, for Time.Add: integer literals or a duration.
    case duration
    /// *template.sample.
    case sample
    /// template.queryResult.
    case samples

    var goName: String {
        switch self {
        case .any: "interface {}"
        case .string: "string"
        case .duration: "time.Duration"
        case .sample: "*template.sample"
        case .samples: "template.queryResult"
        }
    }
}

/// What a function can see besides its arguments.
struct FunctionContext: Sendable {
    let data: TemplateData
}

/// A failed call; the executor reports it as `error calling NAME: message`.
struct FunctionError: Error {
    let message: String
    init(_ message: String) { self.message = message }

    static let nilPointer = FunctionError("runtime error: invalid memory address or nil pointer dereference")
}

typealias FunctionBody = @Sendable (_ arguments: [Value], _ context: FunctionContext) throws(FunctionError) -> Value

struct TemplateFunction: Sendable {
    enum Kind: Sendable {
        case plain(FunctionBody)
        /// and/or short-circuit, so the executor evaluates their arguments itself.
        case and, or
        /// query is the one function that suspends.
        case query
    }

    let name: String
    let parameters: [ParameterType]
    /// The element type of a trailing `...` parameter, if any.
    let variadic: ParameterType?
    let kind: Kind

    init(_ name: String, _ parameters: [ParameterType], variadic: ParameterType? = nil, kind: Kind) {
        self.name = name
        self.parameters = parameters
        self.variadic = variadic
        self.kind = kind
    }

    init(_ name: String, _ parameters: [ParameterType], variadic: ParameterType? = nil, _ body: @escaping FunctionBody) {
        self.init(name, parameters, variadic: variadic, kind: .plain(body))
    }

    func parameterType(at index: Int) -> ParameterType {
        index < parameters.count ? parameters[index] : variadic ?? .any
    }
}

/// Every function a template can call: Go's builtins plus Prometheus' funcMap.
enum FunctionTable {
    private static let functions: [String: TemplateFunction] = {
        var table: [String: TemplateFunction] = [:]
        for function in Builtins.functions + Comparisons.functions + HumanizeFunctions.functions + QueryFunctions.functions
            + StringFunctions.functions + TimeFunctions.functions
        {
            table[function.name] = function
        }
        return table
    }()

    static func function(named name: String) -> TemplateFunction? { functions[name] }

    static var names: [String] { functions.keys.sorted() }
}

// MARK: Argument access
//
// The executor has already checked each argument against the declared parameter type, so these
// only unwrap; the fallbacks are unreachable in practice.

extension Value {
    var stringArgument: String {
        if case .string(let string) = self { return string }
        return ""
    }

    var samplesArgument: [QuerySample] {
        if case .samples(let samples) = self { return samples }
        return []
    }

    /// A *template.sample argument; nil pointers fail like a Go nil dereference.
    func sampleArgument() throws(FunctionError) -> QuerySample {
        if case .sample(let sample) = self { return sample }
        throw .nilPointer
    }
}
