/// Position in a printf format and the operand bookkeeping that goes with it.
private struct FormatScan {
    let bytes: [UInt8]
    let argCount: Int
    var index = 0
    var argNumber = 0
    var reordered = false
    var goodArgNumber = true

    init(bytes: [UInt8], argCount: Int) {
        self.bytes = bytes
        self.argCount = argCount
    }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// A decimal number, advancing past it. Like Go's parsenum, an absurdly long one (past 1e6)
    /// swallows the rest of the format.
    mutating func number() -> Int? {
        var value = 0
        var found = false
        while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
            if value > 1_000_000 {
                index = bytes.count
                return nil
            }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            found = true
            index += 1
        }
        return found ? value : nil
    }

    /// An explicit "[n]" operand index; true when one was found.
    mutating func argumentIndex() -> Bool {
        guard peek == UInt8(ascii: "[") else { return false }
        reordered = true
        guard bytes.count - index >= 3, let close = bytes[index...].firstIndex(of: UInt8(ascii: "]")) else {
            index += 1
            goodArgNumber = false
            return false
        }
        index += 1
        let value = number()
        let wellFormed = value != nil && index == close
        index = close + 1
        if wellFormed, let value, value >= 1, value - 1 < argCount {
            argNumber = value - 1
            return true
        }
        goodArgNumber = false
        return wellFormed
    }

    /// The operand for a '*' width or precision.
    mutating func intArgument(_ args: [Value]) -> Int? {
        guard argNumber < args.count else { return nil }
        defer { argNumber += 1 }
        if case .int(let value) = args[argNumber], abs(value) <= 1_000_000 { return value }
        return nil
    }

    mutating func verb() -> Unicode.Scalar {
        var iterator = bytes[index...].makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) {
            index += UTF8.width(scalar)
            return scalar
        }
        index += 1
        return "\u{FFFD}"
    }
}

/// The state of one fmt print call: output so far and the current verb's flags (Go's pp + fmt).
struct GoPrinter {
    var output = ""
    var plus = false, minus = false, sharp = false, space = false, zero = false
    var plusV = false, sharpV = false
    var width = 0, widthPresent = false
    var precision = 0, precisionPresent = false

    mutating func clearFlags() {
        (plus, minus, sharp, space, zero, plusV, sharpV) = (false, false, false, false, false, false, false)
        (width, widthPresent, precision, precisionPresent) = (0, false, 0, false)
    }

    // MARK: Printf

    /// fmt.Sprintf's doPrintf: flags, "[n]" argument indexes, "*" widths and precisions, and
    /// the %!verb(...) notes for missing, extra and mismatched operands.
    mutating func printf(_ format: String, _ args: [Value]) {
        var scan = FormatScan(bytes: Array(format.utf8), argCount: args.count)
        while scan.index < scan.bytes.count {
            let literalStart = scan.index
            while scan.index < scan.bytes.count && scan.bytes[scan.index] != UInt8(ascii: "%") { scan.index += 1 }
            if scan.index > literalStart { output += String(decoding: scan.bytes[literalStart..<scan.index], as: UTF8.self) }
            if scan.index >= scan.bytes.count { break }
            scan.index += 1  // Skip '%'.
            scan.goodArgNumber = true
            clearFlags()
            parseFlags(&scan)

            var afterIndex = scan.argumentIndex()
            if scan.peek == UInt8(ascii: "*") {
                scan.index += 1
                if let value = scan.intArgument(args) {
                    (width, widthPresent) = (value, true)
                    if value < 0 { (minus, zero, width) = (true, false, -value) }
                } else {
                    output += "%!(BADWIDTH)"
                }
                afterIndex = false
            } else if let value = scan.number() {
                (width, widthPresent) = (value, true)
                if afterIndex { scan.goodArgNumber = false }  // "%[3]2d"
            }

            if scan.index + 1 < scan.bytes.count && scan.peek == UInt8(ascii: ".") {
                scan.index += 1
                if afterIndex { scan.goodArgNumber = false }  // "%[3].2d"
                afterIndex = scan.argumentIndex()
                if scan.peek == UInt8(ascii: "*") {
                    scan.index += 1
                    if let value = scan.intArgument(args), value >= 0 {
                        (precision, precisionPresent) = (value, true)
                    } else {
                        output += "%!(BADPREC)"
                    }
                    afterIndex = false
                } else {
                    (precision, precisionPresent) = (scan.number() ?? 0, true)
                }
            }

            if !afterIndex { afterIndex = scan.argumentIndex() }
            guard scan.index < scan.bytes.count else {
                output += "%!(NOVERB)"
                break
            }
            let verb = scan.verb()
            switch verb {
            case "%":
                output += "%"  // Consumes no operand; flags and width are ignored.
            case _ where !scan.goodArgNumber:
                output += "%!\(Character(verb))(BADINDEX)"
            case _ where scan.argNumber >= args.count:
                output += "%!\(Character(verb))(MISSING)"
            default:
                if verb == "v" {
                    (sharpV, sharp) = (sharp, false)
                    (plusV, plus) = (plus, false)
                }
                printArg(args[scan.argNumber], verb: verb)
                scan.argNumber += 1
            }
        }
        if !scan.reordered && scan.argNumber < args.count {
            clearFlags()
            output += "%!(EXTRA "
            for (offset, arg) in args[scan.argNumber...].enumerated() {
                if offset > 0 { output += ", " }
                if case .invalid = arg {
                    output += "<nil>"
                } else {
                    output += arg.typeName + "="
                    printArg(arg, verb: "v")
                }
            }
            output += ")"
        }
    }

    private mutating func parseFlags(_ scan: inout FormatScan) {
        while let byte = scan.peek {
            switch byte {
            case UInt8(ascii: "#"): sharp = true
            case UInt8(ascii: "0"): zero = !minus  // Only pad with zeros on the left.
            case UInt8(ascii: "+"): plus = true
            case UInt8(ascii: "-"): (minus, zero) = (true, false)
            case UInt8(ascii: " "): space = true
            default: return
            }
            scan.index += 1
        }
    }

    // MARK: Arguments

    mutating func printArg(_ value: Value, verb: Unicode.Scalar, depth: Int = 0) {
        if verb == "T" {
            formatString(value.typeName)
            return
        }
        switch value {
        case .invalid:
            if verb == "v" { pad("<nil>") } else { badVerb(verb, value) }
        case .bool(let bool):
            if verb == "t" || verb == "v" { pad(bool ? "true" : "false") } else { badVerb(verb, value) }
        case .float(let float):
            formatFloat(float, verb: verb, value)
        case .int(let int):
            formatInteger(Int64(int), verb: verb, value)
        case .string(let string):
            formatString(string, verb: verb, value)
        case .duration(let nanoseconds):
            // A Stringer: its String() serves the string verbs; other verbs see the int64.
            if "vsxXq".unicodeScalars.contains(verb) && !sharpV {
                formatString(GoDuration.string(nanoseconds), verb: verb, value)
            } else {
                formatInteger(nanoseconds, verb: verb, value)
            }
        case .time(let time):
            if "vsxXq".unicodeScalars.contains(verb) && !sharpV {
                formatString(time.description, verb: verb, value)
            } else {
                badVerb(verb, value)
            }
        case .labels(let labels):
            printMap(Array.goSorted(labels.keys).map { ($0, Value.string(labels[$0] ?? "")) }, typeName: value.typeName, verb: verb, depth: depth)
        case .dictionary(let dictionary):
            printMap(Array.goSorted(dictionary.keys).map { ($0, dictionary[$0] ?? .invalid) }, typeName: value.typeName, verb: verb, depth: depth)
        case .samples(let samples):
            output += sharpV ? value.typeName + "{" : "["
            for (index, sample) in samples.enumerated() {
                if index > 0 { output += sharpV ? ", " : " " }
                printArg(.sample(sample), verb: verb, depth: depth + 1)
            }
            output += sharpV ? "}" : "]"
        case .sample(let sample):
            // Go prints a pointer to a struct as &{...} at the top level. Nested, it would print
            // an address; the fields are more useful and deterministic.
            output += sharpV ? "&template.sample" : "&"
            printStruct(sample, verb: verb, depth: depth + 1)
        case .root(let data):
            output += (sharpV ? Value.rootTypeName : "") + "{"
            let fields: [(String, Value)] = [
                ("Labels", .labels(data.labels)), ("ExternalLabels", .labels(data.externalLabels)),
                ("ExternalURL", .string(data.externalURL)), ("Value", .float(data.value)),
            ]
            for (index, (name, field)) in fields.enumerated() {
                if index > 0 { output += sharpV ? ", " : " " }
                if plusV || sharpV { output += name + ":" }
                printArg(field, verb: verb, depth: depth + 1)
            }
            output += "}"
        }
    }

    mutating func printStruct(_ sample: QuerySample, verb: Unicode.Scalar, depth: Int) {
        output += "{"
        if plusV || sharpV { output += "Labels:" }
        printArg(.labels(sample.labels), verb: verb, depth: depth + 1)
        output += sharpV ? ", " : " "
        if plusV || sharpV { output += "Value:" }
        printArg(.float(sample.value), verb: verb, depth: depth + 1)
        output += "}"
    }

    private mutating func printMap(_ entries: [(String, Value)], typeName: String, verb: Unicode.Scalar, depth: Int) {
        output += sharpV ? typeName + "{" : "map["
        for (index, (key, value)) in entries.enumerated() {
            if index > 0 { output += sharpV ? ", " : " " }
            printArg(.string(key), verb: verb, depth: depth + 1)
            output += ":"
            printArg(value, verb: verb, depth: depth + 1)
        }
        output += sharpV ? "}" : "]"
    }

    /// "%!d(string=hello)": a verb that does not suit the operand.
    mutating func badVerb(_ verb: Unicode.Scalar, _ value: Value) {
        output += "%!"
        output.unicodeScalars.append(verb)
        output += "("
        if case .invalid = value {
            output += "<nil>"
        } else {
            output += value.typeName + "="
            printArg(value, verb: "v")
        }
        output += ")"
    }

    // MARK: Padding

    mutating func writePadding(_ count: Int) {
        guard count > 0 else { return }
        output += String(repeating: zero && !minus ? "0" : " ", count: count)
    }

    /// Pads to the width, counted in runes as Go does.
    mutating func pad(_ text: String) {
        guard widthPresent && width > 0 else {
            output += text
            return
        }
        let padding = width - text.unicodeScalars.count
        if minus {
            output += text
            writePadding(padding)
        } else {
            writePadding(padding)
            output += text
        }
    }
}
