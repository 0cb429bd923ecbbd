import Foundation
import Testing

@testable import AlertTemplates

/// Execution semantics: data access, control structures, variables and runtime errors.
struct ExecutionTests {
    let alert = TemplateData(
        labels: ["instance": "host:9100", "job": "node", "severity": "page"], value: 1234567,
        externalLabels: ["cluster": "eu-1"], externalURL: "http://prom.example:9090/prefix")

    @Test func typicalAnnotation() async throws {
        #expect(try await render("{{ $labels.instance }} is down ({{ $value | humanize }})", alert) == "host:9100 is down (1.235M)")
    }

    @Test func headerVariablesAndFieldsAgree() async throws {
        #expect(try await render("{{ .Labels.job }}/{{ $labels.job }}", alert) == "node/node")
        #expect(try await render("{{ .ExternalLabels.cluster }}/{{ $externalLabels.cluster }}", alert) == "eu-1/eu-1")
        #expect(try await render("{{ .ExternalURL }} {{ $externalURL }}", alert) == "http://prom.example:9090/prefix http://prom.example:9090/prefix")
        #expect(try await render("{{ .Value }} {{ $value }} {{ $.Labels.job }}", alert) == "1.234567e+06 1.234567e+06 node")
    }

    @Test func missingLabelsAreEmpty() async throws {
        #expect(try await render("[{{ $labels.nope }}][{{ .Labels.nope }}][{{ index $labels \"nope\" }}]", alert) == "[][][]")
    }

    @Test func valuePrintsLikeGoFloat64() async throws {
        for (value, expected) in [(1.0, "1"), (0.5, "0.5"), (1e6, "1e+06"), (123456, "123456"), (-0.25, "-0.25"), (.infinity, "+Inf"), (.nan, "NaN")] {
            #expect(try await render("{{ $value }}", TemplateData(value: value)) == expected)
        }
    }

    @Test func rootAndLabelMapsPrintLikeGo() async throws {
        let data = TemplateData(labels: ["b": "2", "a": "1"], value: 1, externalURL: "http://x")
        #expect(try await render("{{ $labels }}", data) == "map[a:1 b:2]")
        #expect(try await render("{{ . }}", data) == "{map[a:1 b:2] map[] http://x 1}")
    }

    @Test func ifElseIfElse() async throws {
        let text = "{{ if gt $value 90.0 }}critical{{ else if gt $value 50.0 }}warning{{ else }}ok{{ end }}"
        #expect(try await render(text, TemplateData(value: 95)) == "critical")
        #expect(try await render(text, TemplateData(value: 60)) == "warning")
        #expect(try await render(text, TemplateData(value: 10)) == "ok")
    }

    @Test func truthFollowsGo() async throws {
        let text = "{{ if . }}T{{ else }}F{{ end }}"
        var results = ""
        for literal in ["0", "1", "0.0", "\"\"", "\"x\"", "false", "true", "$labels", "$externalLabels"] {
            results += try await render(text.replacingOccurrences(of: ". }}", with: "\(literal) }}"), alert)
        }
        #expect(results == "FTFFTFTTT")
    }

    @Test func withSetsDotAndElseWithChains() async throws {
        #expect(try await render("{{ with $labels.job }}job={{ . }}{{ else }}none{{ end }}", alert) == "job=node")
        #expect(try await render("{{ with $labels.team }}team={{ . }}{{ else }}none{{ end }}", alert) == "none")
        #expect(try await render("{{ with $labels.team }}T{{ else with $labels.job }}J={{ . }}{{ end }}", alert) == "J=node")
    }

    @Test func rangeOverLabelsIsSortedByKey() async throws {
        let data = TemplateData(labels: ["b": "2", "c": "3", "a": "1"])
        #expect(try await render("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}", data) == "a=1;b=2;c=3;")
        #expect(try await render("{{ range $v := $labels }}{{ $v }},{{ end }}", data) == "1,2,3,")
        #expect(try await render("{{ range $labels }}{{ . }}{{ end }}", data) == "123")
        #expect(try await render("{{ range $externalLabels }}x{{ else }}none{{ end }}", data) == "none")
    }

    @Test func rangeOverIntegersWithBreakAndContinue() async throws {
        #expect(try await render("{{ range $i := 3 }}{{ $i }}{{ end }}") == "012")
        let text = "{{ range $i := 5 }}{{ if eq $i 3 }}{{ break }}{{ end }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $i }}{{ end }}"
        #expect(try await render(text) == "02")
    }

    @Test func variableScopingAndAssignment() async throws {
        #expect(try await render(#"{{ $x := "a" }}{{ if true }}{{ $x := "b" }}{{ $x }}{{ end }}{{ $x }}"#) == "ba")
        #expect(try await render(#"{{ $x := "a" }}{{ if true }}{{ $x = "b" }}{{ end }}{{ $x }}"#) == "b")
        #expect(try await render(#"{{ $n := 0 }}{{ range $k, $v := $labels }}{{ $n = $k }}{{ end }}{{ $n }}"#, alert) == "severity")
        #expect(try await render(#"{{ $value := "shadowed" }}{{ $value }}"#, alert) == "shadowed")
    }

    @Test func andOrNotReturnOperandsAndShortCircuit() async throws {
        #expect(try await render(#"{{ and 1 0 }} {{ or 0 "" "x" }} {{ and 1 "a" }} {{ or 0 false }} {{ not "" }}"#) == "0 x a false true")
        // The query is never run: `or` stops at the first true operand.
        #expect(try await render(#"{{ or true (query "up") }}"#) == "true")
        #expect(try await render(#"{{ $labels.team | or "nobody" }}"#, alert) == "nobody")
    }

    @Test func comparisons() async throws {
        #expect(
            try await render(
                #"{{ eq $labels.severity "critical" "page" }} {{ ne "a" "b" }} {{ lt 1 2 }} {{ le 2 2 }} {{ ge "b" "a" }} {{ gt 1.5 2.5 }}"#, alert)
                == "true true true true true false")
        #expect(await failure(#"{{ eq 1 "1" }}"#) == #"template: 1:3: executing at <eq 1 "1">: error calling eq: incompatible types for comparison"#)
        #expect(await failure("{{ lt true false }}") == "template: 1:3: executing at <lt true false>: error calling lt: invalid type for comparison")
    }

    @Test func intLiteralAgainstFloatValueFailsAsInGo() async {
        #expect(
            await failure("{{ if gt $value 80 }}hot{{ end }}", alert)
                == "template: 1:6: executing at <gt $value 80>: error calling gt: incompatible types for comparison")
    }

    @Test func lenIndexSlice() async throws {
        #expect(
            try await render(#"{{ len $labels }} {{ len "héllo" }} {{ index $labels "job" }} {{ index "abc" 1 }} {{ slice "abcdef" 1 3 }}"#, alert)
                == "3 6 node 98 bc")
        #expect(await failure("{{ len $value }}", alert) == "template: 1:3: executing at <len $value>: error calling len: len of type float64")
        #expect(await failure(#"{{ index "abc" 5 }}"#) == #"template: 1:3: executing at <index "abc" 5>: error calling index: index out of range: 5"#)
    }

    @Test func printFunctions() async throws {
        #expect(try await render(#"{{ print 1 2 "a" "b" 3 }}|{{ println "a" 1 }}|{{ "hello" | printf "%s world" }}"#) == "1 2ab3|a 1\n|hello world")
        #expect(try await render(#"{{ printf "%s-%s" (toUpper "a") ("b" | toUpper) }}"#) == "A-B")
        #expect(try await render(#"{{ printf "%c%T%T" 'x' 3.0 3 }}"#) == "xfloat64int")
    }

    @Test func escapingFunctions() async throws {
        #expect(try await render(#"{{ html "<a href=\"x\">&'" }}"#) == "&lt;a href=&#34;x&#34;&gt;&amp;&#39;")
        #expect(try await render(#"{{ js "it's <b>\"q\"=\\" }}"#) == #"it\'s \u003Cb\u003E\"q\"\u003D\\"#)
        #expect(try await render(#"{{ urlquery "a b&c=d/é" }}"#) == "a+b%26c%3Dd%2F%C3%A9")
        #expect(try await render(#"{{ html 1 "<" }}"#) == "1&lt;")
    }

    @Test func executionErrorsNameTheNode() async {
        #expect(
            await failure(#"{{ humanize "one" }}"#)
                == #"template: 1:3: executing at <humanize "one">: error calling humanize: strconv.ParseFloat: parsing "one": invalid syntax"#)
        #expect(
            await failure(#"{{ humanize "one" }}"#, name: "summary")
                == #"template: summary:1:3: executing "summary" at <humanize "one">: error calling humanize: strconv.ParseFloat: parsing "one": invalid syntax"#
        )
        #expect(
            await failure("{{ .Foo }}")
                == "template: 1:3: executing at <.Foo>: can't evaluate field Foo in type \(Value.rootTypeName)")
        #expect(await failure("{{ humanize }}") == "template: 1:3: executing at <humanize>: wrong number of args for humanize: want 1 got 0")
        #expect(await failure("{{ nil }}") == "template: 1:3: executing at <nil>: nil is not a command")
        #expect(await failure(#"{{ "x" 1 }}"#) == #"template: 1:3: executing at <"x">: can't give argument to non-function "x""#)
        #expect(await failure("{{ $labels.job 1 }}", alert) == "template: 1:3: executing at <$labels.job>: job is not a method but has arguments")
        #expect(
            await failure("{{ range $value }}{{ end }}", TemplateData(value: 1.5))
                == "template: 1:9: executing at <$value>: range can't iterate over 1.5")
    }

    @Test func valueFieldsAreInterfaceTypedInErrors() async {
        #expect(await failure("{{ .Value.x }}", alert) == "template: 1:3: executing at <.Value.x>: can't evaluate field x in type interface {}")
        #expect(await failure("{{ $value.x }}", alert) == "template: 1:3: executing at <$value.x>: can't evaluate field x in type float64")
    }

    @Test func argumentTypesAreCheckedLikeGo() async {
        #expect(await failure("{{ toUpper $value }}", alert) == "template: 1:11: executing at <$value>: wrong type for value; expected string; got float64")
        #expect(await failure("{{ toUpper 1 }}") == "template: 1:11: executing at <1>: expected string; found 1")
        #expect(await failure("{{ toUpper nil }}") == "template: 1:11: executing at <nil>: cannot assign nil to string")
        #expect(
            await failure("{{ first $labels }}", alert)
                == "template: 1:9: executing at <$labels>: wrong type for value; expected template.queryResult; got map[string]string")
    }

    @Test func errorsAfterOutputStillFailTheRender() async {
        #expect(await failure("partial {{ humanize true }}") != nil)
    }
}
