import AlertTemplates
import Testing

@Suite struct AlertTemplateTests {
    func render(_ text: String, labels: [String: String] = ["instance": "a:9090", "job": "db"], value: Double = 0.95,
                query: (@Sendable (String) async throws -> [QuerySample])? = nil) async throws -> String {
        try await AlertTemplate(text).render(TemplateData(labels: labels, value: value, externalLabels: ["cluster": "eu-1"], query: query))
    }

    @Test func variablesAndFields() async throws {
        #expect(try await render("{{ $labels.instance }} of {{ .Labels.job }}") == "a:9090 of db")
        #expect(try await render("{{ $value }} / {{ .Value }}") == "0.95 / 0.95")
        #expect(try await render("{{ $externalLabels.cluster }}") == "eu-1")
        #expect(try await render("[{{ $labels.missing }}]") == "[<no value>]", "Go prints <no value> for a missing map key")
    }

    @Test(arguments: [
        (1.0, "1"), (0.5, "0.5"), (1_000_000.0, "1e+06"), (123_456.0, "123456"), (1_234_567.0, "1.234567e+06"),
        (0.0001, "0.0001"), (0.00001, "1e-05"), (-2.5, "-2.5"), (100.0, "100"),
    ])
    func valuesPrintLikeGo(value: Double, expected: String) async throws {
        #expect(try await render("{{ $value }}", value: value) == expected)
    }

    @Test func humanizeFamilyMatchesPrometheus() async throws {
        #expect(try await render("{{ humanize 1234567 }}") == "1.235M")
        #expect(try await render("{{ humanize 0.001234 }}") == "1.234m")
        #expect(try await render("{{ humanize 0 }}") == "0")
        #expect(try await render("{{ humanize1024 1048576 }}") == "1Mi")
        #expect(try await render("{{ humanizeDuration 3661 }}") == "1h 1m 1s")
        #expect(try await render("{{ humanizeDuration 0.5 }}") == "500ms")
        #expect(try await render("{{ humanizeDuration 90061 }}") == "1d 1h 1m 1s")
        #expect(try await render("{{ humanizeDuration 12.34 }}") == "12.34s")
        #expect(try await render("{{ humanizePercentage 0.1234 }}") == "12.34%")
        #expect(try await render("{{ humanizeTimestamp 1435065584.128 }}") == "2015-06-23 13:19:44.128 +0000 UTC")
        #expect(try await render("{{ $value | humanizePercentage }}") == "95%")
        #expect(try await render(#"{{ "1234567" | humanize }}"#) == "1.235M", "numeric strings are accepted")
    }

    @Test func pipelinesAndFunctions() async throws {
        #expect(try await render("{{ $labels.instance | toUpper }}") == "A:9090")
        #expect(try await render(#"{{ printf "%.2f" $value }}"#, value: 0.875) == "0.88")
        #expect(try await render(#"{{ printf "%s has %d" $labels.job 3 }}"#) == "db has 3")
        #expect(try await render(#"{{ reReplaceAll ":.*" "" $labels.instance }}"#) == "a")
        #expect(try await render(#"{{ reReplaceAll "(.*):(.*)" "${2}-$1" $labels.instance }}"#) == "9090-a")
        #expect(try await render(#"{{ if match "a:.*" $labels.instance }}yes{{ end }}"#) == "yes")
        #expect(try await render(#"{{ title "hello world" }} {{ toLower "ABC" }}"#) == "Hello World abc")
        #expect(try await render(#"{{ $labels.instance | stripPort }}"#) == "a")
        #expect(try await render(#"{{ "<b>" }} {{ html "<b>" }}"#) == "<b> &lt;b&gt;")
    }

    @Test func controlFlow() async throws {
        #expect(try await render(#"{{ if gt $value 0.9 }}high{{ else if gt $value 0.5 }}mid{{ else }}low{{ end }}"#) == "high")
        #expect(try await render(#"{{ if gt $value 0.9 }}high{{ else if gt $value 0.5 }}mid{{ else }}low{{ end }}"#, value: 0.6) == "mid")
        #expect(try await render(#"{{ if eq $labels.job "db" }}data{{ else }}compute{{ end }}"#) == "data")
        #expect(try await render("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}") == "instance=a:9090;job=db;")
        #expect(try await render("{{ range $labels }}{{ . }},{{ end }}") == "a:9090,db,")
        #expect(try await render("{{ with $labels.job }}job {{ . }}{{ end }}") == "job db")
        #expect(try await render("{{ $x := 5 }}{{ $x }}") == "5")
        #expect(try await render("a {{- \"b\" -}}   c") == "abc")
        #expect(try await render("{{/* a comment */}}x") == "x")
        #expect(try await render("{{ if and (gt $value 0.5) (eq $labels.job \"db\") }}both{{ end }}") == "both")
    }

    @Test func queryFunctions() async throws {
        let query: @Sendable (String) async throws -> [QuerySample] = { expression in
            #expect(expression == "up")
            return [QuerySample(labels: ["instance": "x"], value: 3), QuerySample(labels: ["instance": "y"], value: 4)]
        }
        #expect(try await render(#"{{ query "up" | first | value }}"#, query: query) == "3")
        #expect(try await render(#"{{ with query "up" }}{{ . | first | label "instance" }}{{ end }}"#, query: query) == "x")
        #expect(try await render(#"{{ range query "up" }}{{ .Labels.instance }}={{ .Value }} {{ end }}"#, query: query) == "x=3 y=4 ")
    }

    @Test func parseErrorsArePositionedAndImmediate() {
        #expect(throws: TemplateError(message: "template: template:1: function \"humanise\" not defined")) {
            try AlertTemplate("value is {{ $value | humanise }}")
        }
        #expect(throws: TemplateError.self) { try AlertTemplate("{{ $labels.instance ") }
        #expect(throws: TemplateError.self) { try AlertTemplate("{{ if true }}open") }
        #expect(throws: TemplateError.self) { try AlertTemplate("{{ end }}") }
        #expect(throws: TemplateError.self) { try AlertTemplate("{{ (printf \"x\" }}") }
        #expect(throws: TemplateError.self) { try AlertTemplate("{{ template \"x\" }}") }
    }

    @Test func executionErrorsAreErrorsNotCrashes() async throws {
        await #expect(throws: TemplateError.self) { try await render(#"{{ humanize "abc" }}"#) }
        await #expect(throws: TemplateError.self) { try await render("{{ $nope }}") }
        await #expect(throws: TemplateError.self) { try await render(#"{{ query "up" }}"#) }
        await #expect(throws: TemplateError.self) { try await render(#"{{ match "(" "x" }}"#) }
    }
}
