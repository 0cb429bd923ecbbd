import Foundation
import Testing

@testable import AlertTemplates

/// A template comes from a workspace spec: whatever it is, parsing and rendering end with a result or
/// an error, never with a crashed controller or agent.
struct LimitTests {
    private func nested(_ open: String, _ body: String, _ close: String, _ depth: Int) -> String {
        String(repeating: open, count: depth) + body + String(repeating: close, count: depth)
    }

    @Test func tenThousandNestedIfsAreAParseErrorNotACrash() throws {
        // The reported attack: ~146 KiB of nested ifs. Refused for its size already…
        let text = nested("{{if 1}}", "x", "{{end}}", 10_000)
        #expect(parseFailure(text, name: "summary") == "template: summary:1:0: template is 150001 bytes, more than the limit of 65536")
        // …and by the nesting bound when size and element limits are lifted out of the way.
        let roomy = TemplateLimits(maxTextBytes: 1 << 20, maxElements: 1 << 20)
        #expect {
            try AlertTemplate(text, limits: roomy)
        } throws: { error in
            (error as? TemplateError)?.message.contains("nesting deeper than 64 levels") == true
        }
    }

    @Test func everyNestingConstructIsBounded() {
        let depth = 500
        #expect(parseFailure(nested("{{range $labels}}", "x", "{{end}}", depth))?.contains("nesting deeper") == true)
        #expect(parseFailure(nested("{{with 1}}", "x", "{{end}}", depth))?.contains("nesting deeper") == true)
        #expect(parseFailure("{{" + nested("(", "1", ")", depth) + "}}")?.contains("nesting deeper") == true)
        let elseIfChain = "{{if 0}}" + String(repeating: "{{else if 0}}", count: depth) + "{{end}}"
        #expect(parseFailure(elseIfChain)?.contains("nesting deeper") == true)
        // Mixed constructs count together.
        #expect(parseFailure(nested("{{if 1}}{{with 1}}", "{{(((1)))}}", "{{end}}{{end}}", 31))?.contains("nesting deeper") == true)
    }

    @Test func theLimitItselfIsAllowedAndRenders() async throws {
        #expect(try await render(nested("{{if 1}}", "deep", "{{end}}", 64)) == "deep")
        #expect(
            parseFailure(nested("{{if 1}}", "deep", "{{end}}", 65))
                == "template: 1:516: nesting deeper than 64 levels (if, else if, range, with and parentheses count together)")
        #expect(try await render("{{" + nested("(", "1", ")", 63) + "}}") == "1")
    }

    @Test func oversizedTextAndTooManyElementsAreRefused() {
        #expect(parseFailure(String(repeating: "a", count: 64 * 1024 + 1)) == "template: 1:0: template is 65537 bytes, more than the limit of 65536")
        #expect(parseFailure(String(repeating: "{{1}}", count: 4_000))?.contains("more than 10000 elements") == true)
        #expect(parseFailure(String(repeating: "{{1}}", count: 3_000)) == nil)
    }

    @Test func rangeOverAHugeCountStopsAtTheStepLimit() async {
        let message = await failure("{{range 1000000000}}x{{end}}")
        #expect(message == "template: 1:8: executing at <1000000000>: execution took more than 100000 steps")
    }

    @Test func outputIsBounded() async {
        let message = await failure(#"{{range 1000}}{{printf "%100d" 1}}{{end}}"#)
        #expect(message?.hasSuffix("output is longer than the limit of 65536 bytes") == true)
    }

    @Test func aStringDoubledInALoopStopsAtTheLimit() async {
        let message = await failure(#"{{$a := "0123456789"}}{{range 64}}{{$a = printf "%s%s" $a $a}}{{end}}{{$a}}"#)
        #expect(message?.hasSuffix("error calling printf: result is longer than the limit of 65536 bytes") == true)
    }

    @Test func limitsCanBeTightened() async {
        let limits = TemplateLimits(maxNestingDepth: 2, maxOutputBytes: 8, maxSteps: 50)
        #expect(throws: TemplateError.self) { try AlertTemplate("{{if 1}}{{if 1}}{{if 1}}x{{end}}{{end}}{{end}}", limits: limits) }
        await #expect(throws: TemplateError.self) { try await AlertTemplate("{{range 20}}x{{end}}", limits: limits).render(TemplateData()) }
        await #expect(throws: TemplateError.self) { try await AlertTemplate("{{range 100}}{{end}}", limits: limits).render(TemplateData()) }
    }

    @Test func catastrophicBacktrackingIsStoppedNotWaitedFor() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let input = String(repeating: "a", count: 60) + "b"
        let replace = await failure(#"{{ reReplaceAll "(a|aa)+$" "x" "\#(input)" }}"#)
        #expect(replace?.contains("needs too many backtracking steps") == true, "\(replace ?? "rendered")")
        let match = await failure(#"{{ match "^(a+)+$" "\#(input)" }}"#)
        #expect(match?.contains("needs too many backtracking steps") == true, "\(match ?? "rendered")")
        #expect(clock.now - started < .seconds(5), "ICU alone takes minutes on these")
        // Ordinary patterns are unaffected.
        #expect(try await render(#"{{ reReplaceAll "(.*):.*" "$1" "host:9090" }}"#) == "host")
    }
}
