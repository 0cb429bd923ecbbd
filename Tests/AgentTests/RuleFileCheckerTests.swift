import Foundation
import SplitPlaneTesting
import Testing

@testable import Agent

@Suite(.serialized) struct RuleFileCheckerTests {
    func write(_ text: String, in directory: TemporaryDirectory) throws -> String {
        let path = directory.path("rules-\(UUID().uuidString.prefix(4)).yaml")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    @Test func reportsEveryProblemWithFileGroupAndRule() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try write(
            """
            groups:
              - name: g
                interval: 5 minutes
                rules:
                  - alert: A
                    expr: up == 0
                    for: 10x
                  - record: r
                    expr: sum(up)
                  - alert: C
                    expr: up
                    labels: {"bad-name": x}
            """, in: directory)
        let report = await RuleFileChecker().check(path: path)
        #expect(report.groups == 1)
        #expect(report.rules == 3)
        #expect(report.problems.map(\.location) == ["\(path):g", "\(path):g:A", "\(path):g:r", "\(path):g:C"])
        #expect(report.problems[1].message.contains("\"10x\" is not a Prometheus duration"))
        #expect(report.problems[2].message.contains("recording rules are not supported"))
    }

    @Test func refusesMisspelledKeysAndBrokenYAML() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let typo = try write("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        anotations: {}\n", in: directory)
        #expect(await RuleFileChecker().check(path: typo).problems.first?.message == "groups[0].rules[0].anotations: unknown field")
        let broken = try write("groups: [\n", in: directory)
        #expect(await RuleFileChecker().check(path: broken).problems.first?.message.hasPrefix("not valid YAML") == true)
        #expect(await RuleFileChecker().check(path: directory.path("missing.yaml")).problems.count == 1)
    }

    @Test func checksExpressionsAgainstTheStore() async throws {
        let vm = try await TestVictoriaMetrics.start()
        let directory = try TemporaryDirectory()
        defer { vm.stop(); directory.remove() }
        let path = try write(
            "groups:\n  - name: g\n    rules:\n      - alert: Fine\n        expr: up == 0\n      - alert: Broken\n        expr: sum(up\n", in: directory)
        let report = await RuleFileChecker(storeURL: vm.url).check(path: path)
        #expect(report.problems.map(\.location) == ["\(path):g:Broken"])
        #expect(report.problems.first?.message.hasPrefix("query failed") == true)
    }
}
