import Foundation
import SplitPlaneProtocol
import Testing

@testable import Agent

/// The customer's ceiling on alerts and status, value by value.
struct DataBoundaryTests {
    let t0 = Date(timeIntervalSince1970: 1_780_000_000)

    func alert(labels: [String: String], annotations: [String: String] = [:], value: Double? = 42) -> AgentAlert {
        AgentAlert(workspace: "analytics", state: .firing, labels: labels, annotations: annotations, startsAt: t0, value: value)
    }

    @Test func defaultsKeepTheSafeSetAndTheRulesOwnConstantLabelsOnly() {
        let (sent, violations) = DataBoundary.default.apply(
            alert(
                labels: ["alertname": "Down", "instance": "a", "severity": "critical", "team": "data", "customer_email": "MARKER@x"],
                annotations: ["summary": "down", "runbook": "MARKER-runbook"]),
            ruleLabels: ["team"])
        #expect(sent.labels == ["alertname": "Down", "instance": "a", "severity": "critical", "team": "data"])
        #expect(sent.annotations == ["summary": "down"])
        #expect(sent.value == nil, "the sample value does not cross by default")
        #expect(
            Set(violations.map { "\($0.field) \($0.reason.rawValue)" }) == ["labels.customer_email label_name", "annotations.runbook annotation_name"])
        #expect(violations.allSatisfy { $0.rule == "Down" && $0.workspace == "analytics" })
        #expect(!"\(violations)".contains("MARKER"), "a violation never carries the value")
    }

    @Test func tooLongValuesAreDroppedOrRedactedNeverSent() throws {
        var boundary = DataBoundary.default
        boundary.maxLabelValueLength = 5
        boundary.maxAnnotationLength = 8
        let long = alert(labels: ["alertname": "A", "pod": "MARKER-pod-name"], annotations: ["summary": "MARKER too long"])
        let dropped = boundary.apply(long).alert
        #expect(dropped.labels == ["alertname": "A"])
        #expect(dropped.annotations.isEmpty)
        boundary.onViolation = .redact
        let (redacted, violations) = boundary.apply(long)
        #expect(redacted.labels == ["alertname": "A", "pod": "[redacted]"])
        #expect(redacted.annotations == ["summary": "[redacted]"])
        #expect(violations.map(\.reason) == [.labelLength, .annotationLength])
    }

    @Test func redactionPatternsReplaceEveryMatchEverywhere() throws {
        let boundary = try DataBoundary.parse(#"redactPatterns: ['\d{4}-\d{4}-\d{4}-\d{4}', 'secret-[a-z]+']"#)
        let (sent, violations) = boundary.apply(
            alert(labels: ["alertname": "A", "instance": "secret-host"], annotations: ["description": "card 1234-5678-9012-3456 on secret-db"]))
        #expect(sent.labels["instance"] == "[redacted]")
        #expect(sent.annotations["description"] == "card [redacted] on [redacted]")
        #expect(violations.map(\.reason) == [.redactionPattern, .redactionPattern])
        let message = boundary.scrub("error on secret-db: \(String(repeating: "x", count: 600))")
        #expect(message.hasPrefix("error on [redacted]: "))
        #expect(message.count == 512, "status text is capped")
    }

    @Test func sampleValueCrossesOnlyWhenAllowed() throws {
        let boundary = try DataBoundary.parse("sendSampleValue: true")
        #expect(boundary.apply(alert(labels: ["alertname": "A"])).alert.value == 42)
    }

    @Test func anOversizedAlertLosesAnnotationsThenLabels() throws {
        let boundary = try DataBoundary.parse("maxAlertBytes: 200\nmaxAnnotationLength: 5000\nlabels: [alertname, severity, instance]")
        let big = alert(
            labels: ["alertname": "A", "severity": "warning", "instance": String(repeating: "i", count: 200)],
            annotations: ["summary": String(repeating: "s", count: 3000)])
        let (sent, violations) = boundary.apply(big)
        #expect(sent.annotations.isEmpty)
        #expect(sent.labels == ["alertname": "A", "severity": "warning"])
        #expect(violations.filter { $0.reason == .alertSize }.map(\.field) == ["annotations", "labels"])
    }

    @Test func theFileIsClosedAndEveryMistakeNamed() {
        func refusal(_ yaml: String) -> String? {
            do {
                _ = try DataBoundary.parse(yaml, source: "b.yaml")
                return nil
            } catch { return "\(error)" }
        }
        #expect(refusal("lables: [a]")?.contains("unknown setting \"lables\"") == true, "\(refusal("lables: [a]") ?? "")")
        #expect(refusal("maxAlertBytes: 0")?.contains("maxAlertBytes must be a positive number") == true)
        #expect(refusal("redactPatterns: ['(']")?.contains("redactPatterns[0] is not a regular expression") == true)
        #expect(refusal("onViolation: keep") != nil)
        #expect(refusal("extraLabels: [team]\nannotations: [summary]") == nil)
        let boundary = try? DataBoundary.parse("extraLabels: [team]")
        #expect(boundary?.labels == Set(DataBoundary.safeLabels + ["team"]))
        #expect(boundary?.allowQueryFunction == false)
    }

    @Test func statusMessagesAreScrubbedEverywhere() {
        var boundary = DataBoundary.default
        boundary.redactPatterns = [try! NSRegularExpression(pattern: "MARKER[0-9]")]
        let status = WorkspaceStatus(
            name: "w", observedGeneration: 1,
            conditions: [Condition(type: "Ready", status: .false, reason: "R", message: "MARKER1 failed", lastTransitionTime: t0)],
            components: [
                ComponentStatus(
                    name: "c", state: "Failed", message: "MARKER2",
                    objects: [ObjectStatus(apiVersion: "v1", kind: "Secret", name: "s", state: "Failed", message: "MARKER3")],
                    conditions: [Condition(type: "Applied", status: .false, reason: "R", message: "MARKER4", lastTransitionTime: t0)])
            ])
        let report = StatusReport(
            agent: AgentFacts(instance: "i", version: "v", certificateExpiry: nil, rulesLoaded: 0, metricsStoreReachable: nil, desiredRevision: 1),
            workspaces: [status])
        let scrubbed = boundary.scrub(report)
        let text = String(decoding: try! StrictJSON.encode(scrubbed), as: UTF8.self)
        #expect(!text.contains("MARKER"))
        #expect(text.contains("[redacted] failed"))
    }
}
