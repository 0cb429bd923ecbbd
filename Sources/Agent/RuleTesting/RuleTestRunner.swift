import Foundation
import Logging
import ServiceSupport
import SplitPlaneProtocol

/// Runs promtool-style rule unit tests with the agent's real evaluator: each test case gets a
/// throwaway VictoriaMetrics on loopback, its input series are imported, and the engine is stepped
/// through every evaluation instant from zero to the last `eval_time`.
public struct RuleTestRunner: Sendable {
    /// Where test time zero lies: a fixed instant well inside VictoriaMetrics' retention.
    static let origin = Date(timeIntervalSince1970: 946_684_800)

    public init() {}

    /// Returns the failures (empty when the file passes), each a promtool-style block of text.
    public func run(_ file: RuleTestFile) async throws -> [String] {
        var groups: [RuleGroup] = []
        for ruleFile in file.ruleFiles {
            guard let text = try? String(contentsOfFile: ruleFile, encoding: .utf8) else { throw RuleTestError("\(ruleFile): cannot read") }
            do {
                groups += try RuleFileChecker.groups(fromYAML: text)
            } catch {
                throw RuleTestError("\(ruleFile): \(error)")
            }
        }
        let workspace = DesiredWorkspace(name: "unit-test", generation: 1, ruleGroups: groups)
        do {
            _ = try RuleEngine.compile(workspace, defaultInterval: file.evaluationInterval)
        } catch {
            throw RuleTestError("rule files: \(error)")
        }
        var failures: [String] = []
        for (index, test) in file.tests.enumerated() {
            failures += try await run(test, number: index, workspace: workspace, evaluationInterval: file.evaluationInterval)
        }
        return failures
    }

    private func run(_ test: RuleTestCase, number: Int, workspace: DesiredWorkspace, evaluationInterval: Duration) async throws -> [String] {
        let vm = try await LocalVictoriaMetrics.start()
        defer { vm.stop() }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("qbeast-rule-test-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let lines = test.importLines(origin: Self.origin)
        for chunk in stride(from: 0, to: lines.count, by: 50_000) {
            try await vm.importPrometheus(Array(lines[chunk..<min(chunk + 50_000, lines.count)]))
        }
        var logger = Logger(label: "test-rules")
        logger.logLevel = .critical
        let outbox = try AlertOutbox(directory: scratch.appendingPathComponent("outbox"), instance: "test", maxBatches: 1_000_000, logger: logger)
        let engine = try RuleEngine(
            store: MetricsStoreClient(baseURL: vm.url), outbox: outbox, stateDirectory: scratch.appendingPathComponent("rules"),
            resendDelay: .seconds(60), defaultInterval: evaluationInterval, clock: ManualTimeSource(now: Self.origin),
            logger: logger, scheduled: false, externalLabels: test.externalLabels, boundary: .unrestricted,  // nothing leaves: promtool's semantics
            onHealthChange: {})
        await engine.update(DesiredState(tenant: "test", environment: "test", revision: 1, workspaces: [workspace]))
        defer { Task { await engine.stop() } }

        let last = test.alertTests.map(\.evalTime).max() ?? .zero
        var failures: [String] = []
        var time = Duration.zero
        while time <= last {
            let instant = Self.origin.addingTimeInterval(time.timeInterval)
            await engine.evaluate(at: instant)
            for alertTest in test.alertTests where alertTest.evalTime == time {
                let got = await engine.alerts(workspace: workspace.name)
                    .filter { $0.state == .firing && $0.labels["alertname"] == alertTest.alertname }
                    .map { RuleTestCase.ExpectedAlert(labels: $0.labels, annotations: $0.annotations) }
                // As promtool: the user lists the rule's labels; alertname is implied.
                let expected = alertTest.expected.map { alert in
                    var alert = alert
                    alert.labels["alertname"] = alertTest.alertname
                    return alert
                }
                if Set(got) != Set(expected) || got.count != expected.count {
                    let show = { (alerts: [RuleTestCase.ExpectedAlert]) in "[" + alerts.map(\.description).sorted().joined(separator: " ") + "]" }
                    let name = test.name.isEmpty ? "" : "name: \(test.name), "
                    failures.append(
                        "    \(name)alertname: \(alertTest.alertname), time: \(Self.format(time)), \n        exp:\(show(expected)), \n        got:\(show(got))")
                }
            }
            if evaluationInterval <= .zero { break }
            time += evaluationInterval
        }
        return failures
    }

    static func format(_ duration: Duration) -> String {
        var seconds = duration.components.seconds
        if seconds == 0 { return "0s" }
        var text = ""
        for (unit, size) in [("h", Int64(3600)), ("m", 60), ("s", 1)] where seconds >= size {
            text += "\(seconds / size)\(unit)"
            seconds %= size
        }
        return text
    }
}
