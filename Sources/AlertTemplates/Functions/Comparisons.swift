/// Go's comparison builtins. Like Go, they compare only values of the same basic kind: an int
/// literal against `$value` (a float64) is an error, so thresholds are written `gt $value 80.0`.
enum Comparisons {
    static let functions: [TemplateFunction] = [
        TemplateFunction("eq", [.any], variadic: .any) { arguments, _ throws(FunctionError) in
            .bool(try equal(arguments[0], Array(arguments.dropFirst())))
        },
        TemplateFunction("ne", [.any, .any]) { arguments, _ throws(FunctionError) in
            .bool(try !equal(arguments[0], [arguments[1]]))
        },
        TemplateFunction("lt", [.any, .any]) { arguments, _ throws(FunctionError) in
            .bool(try less(arguments[0], arguments[1]))
        },
        TemplateFunction("le", [.any, .any]) { arguments, _ throws(FunctionError) in
            .bool(try lessOrEqual(arguments[0], arguments[1]))
        },
        TemplateFunction("gt", [.any, .any]) { arguments, _ throws(FunctionError) in
            .bool(try !lessOrEqual(arguments[0], arguments[1]))
        },
        TemplateFunction("ge", [.any, .any]) { arguments, _ throws(FunctionError) in
            .bool(try !less(arguments[0], arguments[1]))
        },
    ]

    private static let badComparison = FunctionError("incompatible types for comparison")
    private static let badComparisonType = FunctionError("invalid type for comparison")

    private enum Kind: Equatable { case invalid, bool, int, float, string }

    private static func kind(_ value: Value) -> Kind {
        switch value {
        case .bool: .bool
        case .int, .duration: .int
        case .float: .float
        case .string: .string
        default: .invalid
        }
    }

    private static func integer(_ value: Value) -> Int64 {
        switch value {
        case .int(let int): Int64(int)
        case .duration(let nanoseconds): nanoseconds
        default: 0
        }
    }

    /// eq arg1 arg2 arg3...: whether arg1 equals any of the others.
    static func equal(_ first: Value, _ others: [Value]) throws(FunctionError) -> Bool {
        guard !others.isEmpty else { throw FunctionError("missing argument for comparison") }
        let firstKind = kind(first)
        for other in others {
            let otherKind = kind(other)
            if firstKind != otherKind {
                // Go only errs when both are valid; comparing with nil is simply false.
                if !isNil(first) && !isNil(other) { throw badComparison }
                continue
            }
            let truth: Bool
            switch (first, other) {
            case (.bool(let a), .bool(let b)): truth = a == b
            case (.float(let a), .float(let b)): truth = a == b
            case (.string(let a), .string(let b)): truth = a == b
            case _ where firstKind == .int: truth = integer(first) == integer(other)
            default: truth = try equalComposite(first, other)
            }
            if truth { return true }
        }
        return false
    }

    private static func isNil(_ value: Value) -> Bool {
        if case .invalid = value { return true }
        return false
    }

    /// Values without a basic kind: nil equals nil, pointers compare by identity (approximated by
    /// contents), maps and slices are not comparable.
    private static func equalComposite(_ first: Value, _ other: Value) throws(FunctionError) -> Bool {
        switch (first, other) {
        case (.invalid, .invalid): return true
        case (.invalid, _), (_, .invalid): return false
        case (.sample(let a), .sample(let b)): return a == b
        case (.time(let a), .time(let b)): return a == b
        case (.labels, .labels), (.dictionary, .dictionary), (.samples, .samples):
            throw FunctionError("non-comparable type \(GoFormat.formatValue(other)): \(other.typeName)")
        default:
            throw FunctionError("non-comparable types \(GoFormat.formatValue(first)): \(first.typeName), \(other.typeName): \(GoFormat.formatValue(other))")
        }
    }

    static func less(_ first: Value, _ second: Value) throws(FunctionError) -> Bool {
        let firstKind = kind(first), secondKind = kind(second)
        guard firstKind != .invalid && secondKind != .invalid else { throw badComparisonType }
        guard firstKind == secondKind else { throw badComparison }
        switch (first, second) {
        case (.float(let a), .float(let b)): return a < b
        case (.string(let a), .string(let b)): return a.utf8.lexicographicallyPrecedes(b.utf8)
        case (.bool, .bool): throw badComparisonType
        default: return integer(first) < integer(second)
        }
    }

    static func lessOrEqual(_ first: Value, _ second: Value) throws(FunctionError) -> Bool {
        if try less(first, second) { return true }
        return try equal(first, [second])
    }
}
