import Foundation
import Testing

@testable import AlertTemplates

/// Prometheus' template functions, beyond the cases ported from its own tests.
struct FunctionTests {
    @Test(arguments: [
        ("1234567", "1.235M"), ("0.001234", "1.234m"), ("1000", "1k"), ("999.9", "999.9"), ("1e-9", "1n"),
        ("-1500", "-1.5k"), ("1e27", "1000Y"), ("0.0", "0"),
    ])
    func humanize(_ input: String, _ expected: String) async throws {
        #expect(try await render("{{ humanize \(input) }}") == expected)
    }

    @Test func humanize1024() async throws {
        #expect(
            try await render("{{ humanize1024 1048576 }} {{ humanize1024 1023 }} {{ humanize1024 1024 }} {{ humanize1024 1.5 }} {{ humanize1024 0.5 }}")
                == "1Mi 1023 1ki 1.5 0.5")
    }

    @Test func humanizeDurationAndPercentage() async throws {
        #expect(
            try await render("{{ humanizeDuration 3661 }}|{{ humanizeDuration 0.5 }}|{{ humanizeDuration 90061 }}|{{ humanizeDuration 1.5 }}")
                == "1h 1m 1s|500ms|1d 1h 1m 1s|1.5s")
        #expect(try await render("{{ humanizePercentage 0.1234 }} {{ $value | humanizePercentage }}", TemplateData(value: 0.5)) == "12.34% 50%")
    }

    @Test func humanizeAcceptsNumericStringsLikePrometheus() async throws {
        #expect(try await render(#"{{ humanize "1234567" }} {{ humanize "+Inf" }} {{ humanizeDuration "3661" }}"#) == "1.235M +Inf 1h 1m 1s")
        #expect(await failure("{{ humanize true }}") == "template: 1:3: executing at <humanize true>: error calling humanize: can't convert bool to float")
        #expect(
            await failure(#"{{ humanize "1e999" }}"#)
                == #"template: 1:3: executing at <humanize "1e999">: error calling humanize: strconv.ParseFloat: parsing "1e999": value out of range"#)
    }

    @Test func caseFunctions() async throws {
        #expect(
            try await render(#"{{ toUpper "abc é ß" }}|{{ toLower "ÀBC" }}|{{ title "hello-world foo_bar o'neil HTTP" }}"#)
                == "ABC É ß|àbc|Hello-World Foo_bar O'neil HTTP")
    }

    @Test func regularExpressions() async throws {
        #expect(try await render(#"{{ reReplaceAll "^(.*):\\d+$" "$1" "host:9100" }}"#) == "host")
        #expect(try await render(#"{{ reReplaceAll "a*" "X" "baaac" }}"#) == "XbXcX")
        #expect(try await render(#"{{ reReplaceAll "(?P<host>[^:]+):(?P<port>\\d+)" "${port}@${host}" "h:80" }}"#) == "80@h")
        #expect(try await render(#"{{ reReplaceAll "(a)" "$1x|${1}x|$$|$" "a" }}"#) == "|ax|$|$")
        #expect(try await render(#"{{ match "^web-\\d+$" "web-12" }} {{ match "a+" "b" }}"#) == "true false")
        #expect(
            await failure(#"{{ match "(" "x" }}"#)?.hasPrefix(#"template: 1:3: executing at <match "(" "x">: error calling match: error parsing regexp"#)
                == true)
        #expect(await failure(#"{{ reReplaceAll "(" "x" "y" }}"#)?.contains(#"error calling reReplaceAll: regexp: Compile("("): error parsing regexp"#) == true)
    }

    /// Where ICU's defaults differ from RE2 the pattern is rewritten (checked against Go).
    @Test func regularExpressionsFollowRE2() async throws {
        #expect(try await render(#"{{ reReplaceAll "" "-" "abc" }} {{ match "" "" }}"#) == "-a-b-c- true")
        #expect(try await render(#"{{ match "^a$" "a\n" }} {{ match "(?m)^b$" "a\nb" }} {{ reReplaceAll "$" "<" "a\nb\n" }}"#) == "false true a\nb\n<")
        #expect(
            try await render(##"{{ reReplaceAll "\\d" "#" "a1٣b2" }} {{ reReplaceAll "\\w+" "W" "héllo" }} {{ reReplaceAll "\\pL+" "L" "ab 12 dé" }}"##)
                == "a#٣b# WéW L 12 L")
        #expect(try await render(#"{{ reReplaceAll "a.c" "X" "a\rc" }}"#) == "X")
    }

    @Test func caseMappingIsGoSimpleMapping() async throws {
        #expect(try await render(#"{{ toUpper "ß ǆ ﬁ ᾳ" }} {{ toLower "İ Σ" }}"#) == "ß Ǆ ﬁ ᾼ i σ")
    }

    @Test func linksAndURLs() async throws {
        let data = TemplateData(externalURL: "http://prom.example:9090/a%20b/prefix")
        #expect(try await render(#"{{ graphLink "rate(x[5m]) > 0" }}"#) == "/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+0&g0.tab=0")
        #expect(try await render("{{ pathPrefix }} {{ externalURL }}", data) == "/a b/prefix http://prom.example:9090/a%20b/prefix")
        #expect(try await render(#"{{ urlQueryEscape "a=b c" }}"#) == "a%3Db+c")
    }

    @Test func timeValuesAndMethods() async throws {
        #expect(try await render("{{ 1435065584.128 | toTime }}") == "2015-06-23 13:19:44.128 +0000 UTC")
        #expect(try await render(#"{{ (1435065584.128 | toTime).Format "2006-01-02T15:04:05.000Z07:00" }}"#) == "2015-06-23T13:19:44.128Z")
        #expect(try await render(#"{{ (1435065584.128 | toTime).Format "Mon, 02 Jan 2006 15:04:05 MST" }}"#) == "Tue, 23 Jun 2015 13:19:44 UTC")
        #expect(try await render(#"{{ (1435065584 | toTime).Format "Monday January _2 3:04PM .999" }}"#) == "Tuesday June 23 1:19PM ")
        #expect(try await render("{{ (1435065584.128 | toTime).Unix }} {{ (1435065584.128 | toTime).UnixMilli }}") == "1435065584 1435065584128")
        #expect(await failure(#"{{ "NaN" | toTime }}"#) == #"template: 1:11: executing at <toTime>: error calling toTime: value is NaN or Inf"#)
    }

    @Test func durations() async throws {
        #expect(
            try await render("{{ 1.5 | toDuration }} {{ 0.0015 | toDuration }} {{ 90061 | toDuration }} {{ (1800 | toDuration).Minutes }}")
                == "1.5s 1.5ms 25h1m1s 30")
        #expect(
            try await render(#"{{ parseDuration "1h30m" }} {{ parseDuration "1w" }} {{ parseDuration "-5m" }} {{ parseDuration "0" }}"#)
                == "5400 604800 -300 0")
        #expect(
            await failure(#"{{ parseDuration "bad" }}"#)
                == #"template: 1:3: executing at <parseDuration "bad">: error calling parseDuration: not a valid duration string: "bad""#)
        #expect(await failure(#"{{ parseDuration "5x" }}"#)?.hasSuffix(#"unknown unit "x" in duration "5x""#) == true)
        #expect(await failure(#"{{ parseDuration "1m1h" }}"#)?.hasSuffix(#"not a valid duration string: "1m1h""#) == true)
    }

    @Test func nowUsesTheEvaluationTime() async throws {
        let data = TemplateData(evaluationTime: Date(timeIntervalSince1970: 1_353_755_652))
        #expect(try await render("{{ now }} {{ (now | toTime).Year }}", data) == "1.353755652e+09 2012")
    }

    @Test func queryFunctions() async throws {
        let samples = [QuerySample(labels: ["instance": "b", "__value__": "x"], value: 2), QuerySample(labels: ["instance": "a"], value: 1)]
        let data = TemplateData(query: answering(samples))
        #expect(
            try await render(
                #"{{ with query "up" }}{{ len . }} {{ . | first | value }} {{ . | first | label "instance" }} {{ . | first | strvalue }}{{ end }}"#, data)
                == "2 2 b x")
        #expect(try await render(#"{{ range query "up" | sortByLabel "instance" }}{{ .Labels.instance }}={{ .Value }} {{ end }}"#, data) == "a=1 b=2 ")
        #expect(try await render(#"{{ range $i, $s := query "up" }}{{ $i }}:{{ $s.Value }} {{ end }}"#, data) == "0:2 1:1 ")
        #expect(try await render(#"{{ (query "up" | first).Labels.instance }}"#, data) == "b")
        #expect(try await render(#"{{ query "up" | first }}"#, data) == "{map[__value__:x instance:b] 2}")
        #expect(try await render(#"{{ range query "none" }}x{{ else }}empty{{ end }}"#, TemplateData(query: answering([]))) == "empty")
    }

    @Test func queryReceivesTheExpression() async throws {
        let data = TemplateData(labels: ["job": "api"], query: { expression in [QuerySample(labels: ["q": expression], value: 0)] })
        #expect(try await render(#"{{ query (printf "up{job=%q}" $labels.job) | first | label "q" }}"#, data) == #"up{job="api"}"#)
    }

    @Test func queryFailures() async {
        struct StoreDown: Error, CustomStringConvertible { var description: String { "store unreachable" } }
        let failing = TemplateData(query: { _ in throw StoreDown() })
        #expect(await failure(#"{{ query "up" }}"#, failing) == #"template: 1:3: executing at <query "up">: error calling query: store unreachable"#)
        #expect(await failure(#"{{ query "up" }}"#) == #"template: 1:3: executing at <query "up">: error calling query: no query function is configured"#)
        #expect(
            await failure(#"{{ label "x" nil }}"#)
                == #"template: 1:3: executing at <label "x" nil>: error calling label: runtime error: invalid memory address or nil pointer dereference"#)
    }

    @Test func argsBuildsAMap() async throws {
        #expect(try await render(#"{{ with args 1 "two" }}{{ .arg0 }} {{ .arg1 }} [{{ .arg2 }}]{{ end }}"#) == "1 two [<no value>]")
    }

    @Test func everyPrometheusFunctionIsDefined() {
        let prometheus = [
            "query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match", "title", "toUpper", "toLower",
            "graphLink", "tableLink", "sortByLabel", "stripPort", "stripDomain", "humanize", "humanize1024", "humanizeDuration",
            "humanizePercentage", "humanizeTimestamp", "toTime", "toDuration", "now", "pathPrefix", "externalURL", "parseDuration",
            "urlQueryEscape",
        ]
        let builtins = [
            "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "html", "js", "urlquery",
            "eq", "ne", "lt", "le", "gt", "ge",
        ]
        #expect(Set(prometheus + builtins).subtracting(FunctionTable.names).isEmpty)
    }
}
