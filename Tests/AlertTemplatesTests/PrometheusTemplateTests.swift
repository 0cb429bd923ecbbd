import Foundation
import Testing

@testable import AlertTemplates

/// Cases ported from Prometheus' template/template_test.go (text mode). Prometheus feeds some of
/// them slices through `.`; here each element is written as a literal of the same Go type
/// (int literals are Go ints, "1.0" float64s, "..." strings), which reaches the functions alike.
/// uint inputs and native histograms have no counterpart and are left out.
struct PrometheusTemplateTests {
    /// The expander's environment in those tests.
    static let environment = TemplateData(
        externalURL: "http://testhost:9090/path/prefix",
        evaluationTime: Date(timeIntervalSince1970: 1_353_755_652))

    static func expand(_ text: String, query: [QuerySample]? = nil) async throws -> String {
        var data = environment
        if let query { data.query = answering(query) }
        return try await AlertTemplate(text, name: "test").render(data)
    }

    static func expansionError(_ text: String, query: [QuerySample]? = nil) async -> String? {
        var data = environment
        if let query { data.query = answering(query) }
        return await failure(text, data, name: "test")
    }

    /// Applies `function` to each input and joins the results as "r1:r2:...:".
    static func each(_ function: String, _ inputs: [String]) async throws -> String {
        var output = ""
        for input in inputs { output += try await expand("{{ \(function) \(input) }}:") }
        return output
    }

    @Test(arguments: [
        ("plain text", "plain text"),
        ("{{ 1 }}", "1"),
        (#"{{ "<b>" }}"#, "<b>"),
        (#"{{ reReplaceAll "(a)b" "x$1" "ab" }}"#, "xa"),
        (
            #"{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}"#,
            "-22.22%:0%:12.35%:123.5%"
        ),
        (
            #"{{ "-0.22222" | humanizePercentage }}:{{ "0.0" | humanizePercentage }}:{{ "0.1234567" | humanizePercentage }}:{{ "1.23456" | humanizePercentage }}"#,
            "-22.22%:0%:12.35%:123.5%"
        ),
        ("{{ 1435065584.128 | humanizeTimestamp }}", "2015-06-23 13:19:44.128 +0000 UTC"),
        (#"{{ "1435065584.128" | humanizeTimestamp }}"#, "2015-06-23 13:19:44.128 +0000 UTC"),
        (#"{{ (1435065584.128 | toTime).Format "2006" }}"#, "2015"),
        (#"{{ ("1435065584.128" | toTime).Format "2006" }}"#, "2015"),
        ("{{ (1800 | toDuration).String }}", "30m0s"),
        (#"{{ ("1800" | toDuration).String }}"#, "30m0s"),
        ("{{ now }}", "1.353755652e+09"),
        (#"{{ (now | toTime).Format "Mon Jan 2 15:04:05 2006" }}"#, "Sat Nov 24 11:14:12 2012"),
        (#"{{ ("-30m" | parseDuration | toDuration | (now | toTime).Add).UnixMilli }}"#, "1353753852000"),
        (#"{{ "aa bb CC" | title }}"#, "Aa Bb CC"),
        (#"{{ "aa bb CC" | toUpper }}"#, "AA BB CC"),
        (#"{{ "aA bB CC" | toLower }}"#, "aa bb cc"),
        (#"{{ match "a+" "aa" }} {{ match "a+" "b" }}"#, "true false"),
        (#"{{ graphLink "up" }}"#, "/graph?g0.expr=up&g0.tab=0"),
        (#"{{ tableLink "up" }}"#, "/graph?g0.expr=up&g0.tab=1"),
        ("{{ pathPrefix }}", "/path/prefix"),
        ("{{ externalURL }}", "http://testhost:9090/path/prefix"),
        (#"{{ printf "%0.2f" (parseDuration "1h2m10ms") }}"#, "3720.01"),
        (#"{{ printf "%0.2f" (parseDuration "-1h2m10ms") }}"#, "-3720.01"),
    ])
    func expansion(_ text: String, _ expected: String) async throws {
        #expect(try await Self.expand(text) == expected)
    }

    @Test(arguments: [
        ("foo.example.com", "foo.example.com", "foo"),
        ("foo.example.com:12345", "foo.example.com", "foo:12345"),
        ("192.0.2.1", "192.0.2.1", "192.0.2.1"),
        ("192.0.2.1:12345", "192.0.2.1", "192.0.2.1:12345"),
        ("2001:0DB8::1", "2001:0DB8::1", "2001:0DB8::1"),
        ("[2001:0DB8::1]:12345", "2001:0DB8::1", "[2001:0DB8::1]:12345"),
        ("[2001:0DB8::1]::12345", "[2001:0DB8::1]::12345", "[2001:0DB8::1]::12345"),
    ])
    func stripPortAndDomain(_ address: String, _ withoutPort: String, _ withoutDomain: String) async throws {
        #expect(try await Self.expand(#"{{ "\#(address)" | stripPort }}"#) == withoutPort)
        #expect(try await Self.expand(#"{{ "\#(address)" | stripDomain }}"#) == withoutDomain)
    }

    @Test func nonASCIISpaceIsNotAllowedInActions() async {
        #expect(await Self.expansionError("{{\u{A0}}}") == "template: test:1:2: unrecognized character in action: U+00A0")
    }

    @Test func unparsableTemplate() async {
        #expect(await Self.expansionError("{{") == "template: test:1:2: unclosed action")
    }

    @Test func queryResults() async throws {
        let metricA = QuerySample(labels: ["__name__": "metric", "instance": "a"], value: 11)
        #expect(try await Self.expand(#"{{ query "1.5" | first | value }}"#, query: [QuerySample(labels: [:], value: 1.5)]) == "1.5")
        #expect(try await Self.expand(#"{{ query "metric{instance='a'}" | first | value }}"#, query: [metricA]) == "11")
        #expect(try await Self.expand(#"{{ query "metric{instance='a'}" | first | label "instance" }}"#, query: [metricA]) == "a")
        let valueLabel = QuerySample(labels: ["__name__": "metric", "__value__": "a"], value: 11)
        #expect(try await Self.expand(#"{{ query "metric{__value__='a'}" | first | strvalue }}"#, query: [valueLabel]) == "a")
        #expect(try await Self.expand(#"{{ query "metric{instance='a'}" | first | label "foo" }}"#, query: [metricA]) == "")
        #expect(try await Self.expand(#"{{ $x := query "metric" | first }}{{ $x.Labels.foo }}"#, query: [metricA]) == "")
    }

    @Test func rangeOverQuerySortedByLabel() async throws {
        let results = [
            QuerySample(labels: ["__name__": "metric", "instance": "b"], value: 21),
            QuerySample(labels: ["__name__": "metric", "instance": "a"], value: 11),
        ]
        #expect(
            try await Self.expand(#"{{ range query "metric" | sortByLabel "instance" }}{{.Labels.instance}}:{{.Value}}: {{end}}"#, query: results)
                == "a:11: b:21: ")
    }

    @Test func errorInFunction() async {
        #expect(
            await Self.expansionError(#"{{ query "missing" | first }}"#, query: [])
                == #"template: test:1:21: executing "test" at <first>: error calling first: first() called on vector with no elements"#)
    }

    /// Go reports this at the last node it evaluated (the string, 1:10); we name the whole chain.
    @Test func fieldOfAQueryResult() async {
        #expect(
            await Self.expansionError(#"{{ (query "missing").banana }}"#, query: [])
                == #"template: test:1:20: executing "test" at <(query "missing").banana>: can't evaluate field banana in type template.queryResult"#)
    }

    @Test func humanize() async throws {
        #expect(try await Self.each("humanize", ["0.0", "1.0", "1234567.0", ".12"]) == "0:1:1.235M:120m:")
        #expect(try await Self.each("humanize", [#""0.0""#, #""1.0""#, #""1234567.0""#, #"".12""#]) == "0:1:1.235M:120m:")
        #expect(try await Self.each("humanize", ["0", "-1", "1", "1234567", "9223372036854775807"]) == "0:-1:1:1.235M:9.223E:")
        #expect(
            await Self.expansionError(#"{{ humanize "one" }}"#)
                == #"template: test:1:3: executing "test" at <humanize "one">: error calling humanize: strconv.ParseFloat: parsing "one": invalid syntax"#)
    }

    @Test func humanize1024() async throws {
        #expect(try await Self.each("humanize1024", ["0.0", "1.0", "1048576.0", ".12"]) == "0:1:1Mi:0.12:")
        #expect(try await Self.each("humanize1024", [#""0.0""#, #""1.0""#, #""1048576.0""#, #"".12""#]) == "0:1:1Mi:0.12:")
        #expect(try await Self.each("humanize1024", ["0", "-1", "1", "1234567", "9223372036854775807"]) == "0:-1:1:1.177Mi:8Ei:")
        #expect(
            await Self.expansionError(#"{{ humanize1024 "one" }}"#)
                == #"template: test:1:3: executing "test" at <humanize1024 "one">: error calling humanize1024: strconv.ParseFloat: parsing "one": invalid syntax"#
        )
    }

    @Test func humanizeDuration() async throws {
        #expect(
            try await Self.each("humanizeDuration", ["0.0", "1.0", "60.0", "3600.0", "86400.0", "90000.0", "-183845.0", "899.99"])
                == "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:")
        #expect(try await Self.each("humanizeDuration", [#""0""#, #""1""#, #""60""#, #""3600""#, #""86400""#]) == "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:")
        #expect(
            try await Self.each("humanizeDuration", [".1", ".0001", ".12345", "60.1", "60.5", "1.2345", "12.345"])
                == "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:")
        #expect(
            try await Self.each("humanizeDuration", [#"".1""#, #"".0001""#, #"".12345""#, #""60.1""#, #""60.5""#, #""1.2345""#, #""12.345""#])
                == "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:")
        #expect(try await Self.each("humanizeDuration", ["0", "-1", "1", "1234567"]) == "0s:-1s:1s:14d 6h 56m 7s:")
        #expect(
            await Self.expansionError(#"{{ humanizeDuration "one" }}"#)
                == #"template: test:1:3: executing "test" at <humanizeDuration "one">: error calling humanizeDuration: strconv.ParseFloat: parsing "one": invalid syntax"#
        )
    }

    @Test func humanizeInfinityAndNaN() async throws {
        let text = "{{ humanize $value }}:{{ humanize1024 $value }}:{{ humanizeDuration $value }}:{{ humanizeTimestamp $value }}:"
        var output = ""
        for value in [Double.infinity, -.infinity, .nan] {
            output += try await AlertTemplate(text).render(TemplateData(value: value))
        }
        #expect(output == "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:")
        let strings = try await Self.each("humanize", [#""+Inf""#, #""-Inf""#, #""NaN""#])
        #expect(strings == "+Inf:-Inf:NaN:")
    }

    @Test func humanizePercentageOfIntegers() async throws {
        #expect(try await Self.each("humanizePercentage", ["0", "-1", "1", "1234567", "9223372036854775807"]) == "0%:-100%:100%:1.235e+08%:9.223e+20%:")
        #expect(
            await Self.expansionError(#"{{ "one" | humanizePercentage }}"#)
                == #"template: test:1:11: executing "test" at <humanizePercentage>: error calling humanizePercentage: strconv.ParseFloat: parsing "one": invalid syntax"#
        )
    }

    @Test func humanizeTimestamp() async throws {
        #expect(
            try await Self.each("humanizeTimestamp", ["0", "-1", "1", "1234567", "9223372036"])
                == "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:"
        )
        #expect(
            await Self.expansionError("{{ humanizeTimestamp -9223372036854775808 }}")
                == #"template: test:1:3: executing "test" at <humanizeTimestamp -9223372036854775808>: error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds timestamp since it overflows int64"#
        )
    }

    @Test func floatToTime() throws {
        #expect(try GoTime.fromPrometheus(seconds: 1_657_155_181).description == "2022-07-07 00:53:01 +0000 UTC")
        #expect(throws: GoTime.RangeError.self) { try GoTime.fromPrometheus(seconds: 1.79769313486231570814527423731704356798070e+300) }
        #expect(throws: GoTime.RangeError.self) { try GoTime.fromPrometheus(seconds: -1.79769313486231570814527423731704356798070e+300) }
    }
}
