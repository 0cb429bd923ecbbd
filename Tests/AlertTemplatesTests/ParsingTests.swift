import Testing

@testable import AlertTemplates

/// Syntax: what parses, what is refused when the rule is loaded, and where the error points.
/// Columns are 0-based byte offsets within the line, as in Go's messages.
struct ParsingTests {
    @Test func unknownFunctionIsAParseErrorWithItsPosition() {
        #expect(parseFailure("{{ $value | humanise }}") == #"template: 1:12: function "humanise" not defined"#)
        #expect(parseFailure("line one\n{{ .Labels.x | bogus }}") == #"template: 2:15: function "bogus" not defined"#)
    }

    @Test func namedTemplatesNameThemselvesInErrors() {
        #expect(parseFailure("{{ nope }}", name: "summary") == #"template: summary:1:3: function "nope" not defined"#)
    }

    @Test func unclosedActions() {
        #expect(parseFailure("{{") == "template: 1:2: unclosed action")
        #expect(parseFailure("{{ $labels.instance ") == "template: 1:20: unclosed action")
        #expect(parseFailure("{{ if\n") == "template: 2:0: unclosed action started at line 1")
        #expect(parseFailure("{{ if\n", name: "summary") == "template: summary:2:0: unclosed action started at summary:1")
    }

    @Test func unexpectedTokens() {
        #expect(parseFailure("{{ .Labels.x }") == #"template: 1:13: unexpected "}" in operand"#)
        #expect(parseFailure("{{ if .Value }}x") == "template: 1:16: unexpected EOF")
        #expect(parseFailure("{{ end }}") == "template: 1:3: unexpected {{end}}")
        #expect(parseFailure("{{ else }}") == "template: 1:3: unexpected {{else}}")
        #expect(parseFailure("{{ if 1 }}a{{ else }}b{{ else }}c{{ end }}") == "template: 1:25: expected end; found {{else}}")
        #expect(parseFailure(#"{{ "a".b }}"#) == #"template: 1:6: unexpected . after term "\"a\"""#)
    }

    @Test func variablesMustBeDeclaredAndScoped() {
        #expect(parseFailure("{{ $undefined }}") == #"template: 1:3: undefined variable "$undefined""#)
        #expect(parseFailure("{{ range $k, $v := $labels }}{{ end }}{{ $k }}") == #"template: 1:41: undefined variable "$k""#)
        #expect(parseFailure("{{ $labels }}{{ $value }}{{ $externalLabels }}{{ $externalURL }}{{ $ }}") == nil)
    }

    @Test func pipelineShapeErrors() {
        #expect(parseFailure("{{ }}") == "template: 1:3: missing value for command")
        #expect(parseFailure("{{ 1 | 2 }}") == "template: 1:7: non executable command in pipeline stage 2")
        #expect(parseFailure("{{ break }}") == "template: 1:3: {{break}} outside {{range}}")
        #expect(parseFailure("{{ $a, $b := 1 }}") == "template: 1:5: too many declarations in command")
    }

    @Test func lexerErrors() {
        #expect(parseFailure(#"{{ "unterminated }}"#) == "template: 1:3: unterminated quoted string")
        #expect(parseFailure("{{ `raw }}") == "template: 1:3: unterminated raw quoted string")
        #expect(parseFailure("{{/* unclosed") == "template: 1:2: unclosed comment")
        #expect(parseFailure("{{ $x=1 }}") == "template: 1:3: bad character U+003D '='")
        #expect(parseFailure("{{\u{A0}}}") == "template: 1:2: unrecognized character in action: U+00A0")
        #expect(parseFailure("{{ (1 }}") == "template: 1:6: unclosed left paren")
        #expect(parseFailure("{{ 1) }}") == "template: 1:4: unexpected right paren U+0029 ')'")
    }

    @Test func numberLiterals() async throws {
        #expect(try await render("{{ 0x1F }} {{ 1_000 }} {{ 017 }} {{ 'a' }} {{ 1e3 }} {{ -2.5 }} {{ .5 }}") == "31 1000 15 97 1000 -2.5 0.5")
        #expect(parseFailure("{{ 08 }}") == #"template: 1:3: integer overflow: "08""#)
        #expect(parseFailure("{{ 1.2.3 }}") == #"template: 1:6: unexpected ".3" in operand"#)
        #expect(parseFailure("{{ 3x }}") == #"template: 1:3: bad number syntax: "3x""#)
        #expect(parseFailure("{{ '' }}") == "template: 1:3: invalid syntax")
        #expect(parseFailure("{{ 'ab' }}") == "template: 1:3: malformed character constant: 'ab'")
        #expect(parseFailure("{{ 1i }}") == "template: 1:3: complex constants are not supported: 1i")
    }

    @Test func stringLiteralsUseGoEscapes() async throws {
        #expect(try await render(#"{{ "a\tb\n\u00e9\x41\101\\\"" }}"#) == "a\tb\néAA\\\"")
        #expect(try await render("{{ `raw \\n ok` }}") == "raw \\n ok")
        #expect(parseFailure(#"{{ "bad \q" }}"#) == "template: 1:3: invalid syntax")
    }

    @Test func unsupportedDefinitionsAreRefusedClearly() {
        #expect(parseFailure(#"{{ define "x" }}y{{ end }}"#) == "template: 1:3: {{define}} is not supported")
        #expect(parseFailure(#"{{ template "x" }}"#) == "template: 1:3: {{template}} is not supported")
    }

    @Test func whitespaceTrimMarkers() async throws {
        #expect(try await render("a  {{- 1 -}}  b") == "a1b")
        #expect(try await render("a \n\t{{- /* note */ -}} \n b") == "ab")
        #expect(try await render("{{-3}}") == "-3")
        #expect(try await render("x\n  {{- if true }}\n  yes\n  {{- end }}\n") == "x\n  yes\n")
        #expect(try await render("{{ 1 -}}\n{{ 2 }}") == "12")
    }

    @Test func commentsAndMultiLineActions() async throws {
        #expect(try await render("{{/* a comment */}}ok") == "ok")
        #expect(parseFailure("{{/* a */ 1 }}") == "template: 1:2: comment ends before closing delimiter")
        #expect(try await render("{{ if\n  true }}y{{ end }}") == "y")
    }
}
