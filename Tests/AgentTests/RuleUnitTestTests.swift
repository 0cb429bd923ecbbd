import Foundation
import SplitPlaneTesting
import Testing

@testable import Agent

@Suite struct SeriesNotationTests {
    @Test func expandsPromtoolNotation() throws {
        #expect(try SeriesNotation.expand("-2+4x3") == [-2, 2, 6, 10])
        #expect(try SeriesNotation.expand(" 1-2x4") == [1, -1, -3, -5, -7])
        #expect(try SeriesNotation.expand("1x4") == [1, 1, 1, 1, 1])
        #expect(try SeriesNotation.expand("1 _x3 stale") == [1, nil, nil, nil, nil])
        #expect(try SeriesNotation.expand("0.5 _ 2e3") == [0.5, nil, 2000])
    }

    @Test(arguments: ["1+x3", "abc", "1x", "_xq", "1+2x-1"])
    func refusesMalformedNotation(_ text: String) {
        #expect(throws: RuleTestError.self) { try SeriesNotation.expand(text) }
    }

    @Test func importLinesFollowTheInterval() throws {
        let file = try RuleTestFile.parse(
            yaml: """
                tests:
                  - interval: 1m
                    input_series:
                      - series: 'up{job="a"}'
                        values: '1 _ 3'
                """, path: "t.yaml", directory: "/tmp")
        let lines = file.tests[0].importLines(origin: Date(timeIntervalSince1970: 100))
        #expect(lines == [#"up{job="a"} 1 100000"#, #"up{job="a"} 3 220000"#])
    }

    @Test func unknownFieldsAndPromQLTestsAreReported() {
        #expect(throws: RuleTestError.self) { try RuleTestFile.parse(yaml: "rule_file: [x]\n", path: "t.yaml", directory: "/tmp") }
        #expect(throws: RuleTestError.self) {
            try RuleTestFile.parse(yaml: "tests:\n  - promql_expr_test: [{expr: up, eval_time: 1m}]\n", path: "t.yaml", directory: "/tmp")
        }
    }
}

/// promtool-style tests run with the real evaluator against a throwaway VictoriaMetrics.
@Suite(.serialized) struct RuleTestRunnerTests {
    let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples")

    @Test func theShippedExamplePasses() async throws {
        let failures = try await RuleTestRunner().run(try RuleTestFile.load(path: examples.appendingPathComponent("rules_test.yaml").path))
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func aWrongExpectationFailsWithAPromtoolStyleDiff() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let text = try String(contentsOf: examples.appendingPathComponent("rules_test.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "eval_time: 2m\n", with: "eval_time: 1m30s\n")
            .replacingOccurrences(of: "  - rules.yaml", with: "  - \(examples.appendingPathComponent("rules.yaml").path)")
        let path = directory.path("failing_test.yaml")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let failures = try await RuleTestRunner().run(try RuleTestFile.load(path: path))
        #expect(failures.count == 1)
        #expect(failures.first?.contains("alertname: QbeastBackendDown, time: 1m30s") == true)
        #expect(failures.first?.contains("got:[]") == true, "at 1m30s the alert is still pending")
    }
}
