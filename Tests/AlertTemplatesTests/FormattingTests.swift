import Testing

@testable import AlertTemplates

/// Go's fmt: printf verbs, flags and notes, and %v of float64 (what `{{ $value }}` prints).
struct FormattingTests {
    private func sprintf(_ format: String, _ values: Value...) -> String { GoFormat.sprintf(format, values) }

    @Test(arguments: [
        (1.0, "1"), (0.5, "0.5"), (1e6, "1e+06"), (123456, "123456"), (1234567, "1.234567e+06"), (0.0001, "0.0001"),
        (0.00001, "1e-05"), (1.0 / 3, "0.3333333333333333"), (100, "100"), (-0.0, "-0"), (0.1 + 0.2, "0.30000000000000004"),
        (.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (123456.7, "123456.7"), (1e21, "1e+21"),
        (-1.5, "-1.5"), (1353755652, "1.353755652e+09"), (.infinity, "+Inf"), (-.infinity, "-Inf"),
    ])
    func floatVerbV(_ value: Double, _ expected: String) {
        #expect(GoFormat.formatValue(.float(value)) == expected)
    }

    @Test func nanPrintsWithoutSign() {
        #expect(GoFormat.formatValue(.float(.nan)) == "NaN")
        #expect(sprintf("%+f|%5.1f|%+v", .float(.nan), .float(.nan), .float(.nan)) == "+NaN|  NaN|NaN")
    }

    @Test func integerVerbs() {
        #expect(sprintf("%d|%5d|%-5d|%05d|%+d|% d", .int(42), .int(42), .int(42), .int(42), .int(42), .int(42)) == "42|   42|42   |00042|+42| 42")
        #expect(sprintf("%x|%X|%#x|%o|%#o|%O|%b", .int(255), .int(255), .int(255), .int(8), .int(8), .int(8), .int(5)) == "ff|FF|0xff|10|010|0o10|101")
        #expect(sprintf("%c|%q|%U|%#U", .int(65), .int(65), .int(65), .int(65)) == "A|'A'|U+0041|U+0041 'A'")
        #expect(sprintf("%.3d|%8.3d|%05d|%x", .int(7), .int(7), .int(-42), .int(-255)) == "007|     007|-0042|-ff")
    }

    @Test func floatVerbs() {
        #expect(
            sprintf("%f|%.2f|%8.3f|%-8.2f|%08.3f", .float(3.14159), .float(3.14159), .float(3.14159), .float(3.14159), .float(-3.14159))
                == "3.141590|3.14|   3.142|3.14    |-003.142")
        #expect(
            sprintf("%e|%E|%g|%g|%.3g|%G", .float(1234.5678), .float(1234.5678), .float(1234.5678), .float(0.000012345), .float(1234.5678), .float(1e-10))
                == "1.234568e+03|1.234568E+03|1234.5678|1.2345e-05|1.23e+03|1E-10")
        #expect(sprintf("%+.1f|%.0f|%.0f|%5.1f%%", .float(2), .float(2.5), .float(3.5), .float(99.5)) == "+2.0|2|4| 99.5%")
        #expect(sprintf("%#g|%#.3g|%5.2f|%f", .float(1), .float(1), .float(.infinity), .float(-.infinity)) == "1.00000|1.00| +Inf|-Inf")
        #expect(sprintf("%x|%b|%.4g", .float(1), .float(1), .float(100)) == "0x1p+00|4503599627370496p-52|100")
        #expect(sprintf("%0.2f", .float(3720.01)) == "3720.01")
    }

    @Test func stringVerbs() {
        #expect(sprintf("%s|%10s|%-10s|%.1s", .string("hi"), .string("hi"), .string("hi"), .string("hello")) == "hi|        hi|hi        |h")
        #expect(
            sprintf("%q|%x|% x|%#x|%X", .string(#"a"b"#), .string("hi"), .string("hi"), .string("hi"), .string("hi!")) == #""a\"b"|6869|68 69|0x6869|686921"#)
        #expect(sprintf("%q|%+q|%#q|%v", .string("é\n"), .string("é"), .string("abc"), .string("x")) == #""é\n"|"\u00e9"|`abc`|x"#)
    }

    @Test func otherValues() {
        #expect(sprintf("%t|%v|%T|%T", .bool(true), .bool(false), .labels([:]), .samples([])) == "true|false|map[string]string|template.queryResult")
        #expect(sprintf("%v|%s", .labels(["b": "2", "a": "1"]), .labels(["a": "1"])) == "map[a:1 b:2]|map[a:1]")
        let sample = QuerySample(labels: ["a": "b"], value: 1)
        #expect(sprintf("%v|%+v", .sample(sample), .sample(sample)) == "&{map[a:b] 1}|&{Labels:map[a:b] Value:1}")
        #expect(sprintf("%v|%d", .invalid, .invalid) == "<nil>|%!d(<nil>)")
        #expect(sprintf("%v|%s", .duration(1_800_000_000_000), .time(GoTime(seconds: 0, nanoseconds: 0))) == "30m0s|1970-01-01 00:00:00 +0000 UTC")
    }

    @Test func notesForMismatchedOperands() {
        #expect(sprintf("%d") == "%!d(MISSING)")
        #expect(sprintf("%d", .int(1), .string("a")) == "1%!(EXTRA string=a)")
        #expect(sprintf("%d|%s|%z", .string("x"), .float(1.5), .int(1)) == "%!d(string=x)|%!s(float64=1.5)|%!z(int=1)")
        #expect(sprintf("50%") == "50%!(NOVERB)")
        #expect(sprintf("100%%") == "100%")
    }

    @Test func argumentIndexesAndStarArguments() {
        #expect(sprintf("%[2]d %[1]d", .int(1), .int(2)) == "2 1")
        #expect(sprintf("%*d|%.*f|%-*d|", .int(5), .int(42), .int(2), .float(3.14159), .int(4), .int(7)) == "   42|3.14|7   |")
        #expect(sprintf("%[3]d", .int(1)) == "%!d(BADINDEX)")
        #expect(sprintf("%1000000000d", .int(1)) == "%!(NOVERB)%!(EXTRA int=1)")
    }

    @Test func printfThroughTemplates() async throws {
        #expect(
            try await render(#"{{ printf "%.2f%%" 12.345 }} {{ printf "%5s|%-4d|" "ab" 7 }} {{ printf "%d" 1.5 }}"#) == "12.35%    ab|7   | %!d(float64=1.5)")
        #expect(try await render(#"{{ printf "%.1f" $value }}"#, TemplateData(value: 99.95)) == "100.0")
    }

    @Test func sprintSpacing() {
        #expect(GoFormat.sprint([.int(1), .int(2), .string("a"), .string("b"), .float(3)]) == "1 2ab3")
        #expect(GoFormat.sprintln([.string("a"), .int(1)]) == "a 1\n")
    }
}
