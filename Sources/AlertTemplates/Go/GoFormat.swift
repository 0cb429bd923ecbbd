/// Go's fmt package over template values: Sprint, Sprintln, Sprintf and the %v rendering that
/// template actions print with.
enum GoFormat {
    /// fmt.Sprint: operands separated by a space when neither side is a string.
    static func sprint(_ values: [Value]) -> String {
        var printer = GoPrinter()
        var previousIsString = false
        for (index, value) in values.enumerated() {
            if index > 0 && !value.isString && !previousIsString { printer.output += " " }
            printer.printArg(value, verb: "v")
            previousIsString = value.isString
        }
        return printer.output
    }

    /// fmt.Sprintln: operands always separated by a space, then a newline.
    static func sprintln(_ values: [Value]) -> String {
        var printer = GoPrinter()
        for (index, value) in values.enumerated() {
            if index > 0 { printer.output += " " }
            printer.printArg(value, verb: "v")
        }
        printer.output += "\n"
        return printer.output
    }

    static func sprintf(_ format: String, _ values: [Value]) -> String {
        var printer = GoPrinter()
        printer.printf(format, values)
        return printer.output
    }

    /// %v of one value.
    static func formatValue(_ value: Value) -> String {
        switch value {
        case .string(let string): return string
        case .float(let float): return GoFloat.format(float, UInt8(ascii: "g"), precision: -1)
        case .int(let int): return String(int)
        default:
            var printer = GoPrinter()
            printer.printArg(value, verb: "v")
            return printer.output
        }
    }

    /// How a template action prints a value: "<no value>" for nothing, pointers dereferenced
    /// (a sample prints as "{map[...] 1}"), Stringers via String().
    static func printed(_ value: Value) -> String {
        switch value {
        case .invalid: return "<no value>"
        case .sample(let sample):
            var printer = GoPrinter()
            printer.printStruct(sample, verb: "v", depth: 1)
            return printer.output
        default: return formatValue(value)
        }
    }
}
