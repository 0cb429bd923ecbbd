import Foundation
import SplitPlaneProtocol
import Testing

/// The agent's trimming and the controller's check agree: whatever `conform` returns passes `check`.
struct AlertLimitsTests {
    @Test func conformedAlertsAlwaysPassTheCheck() throws {
        var generator = SystemRandomNumberGenerator()
        let limits = AlertLimits(maxLabels: 8, maxLabelNameLength: 20, maxLabelValueLength: 64, maxAnnotations: 3, maxAnnotationLength: 100, maxAlertSize: 1024)
        for _ in 0..<300 {
            func text(_ max: Int) -> String { String((0..<Int.random(in: 0...max, using: &generator)).map { _ in "aé€𝄞".randomElement(using: &generator)! }) }
            let labels = Dictionary((0..<Int.random(in: 1...40, using: &generator)).map { ("n\(text(30).unicodeScalars.count)_\($0)", text(200)) }) { a, _ in a
            }
            let annotations = Dictionary((0..<Int.random(in: 0...10, using: &generator)).map { ("a\($0)", text(400)) }) { a, _ in a }
            let alert = AgentAlert(
                workspace: "w", state: .firing, labels: labels.merging(["alertname": "X"]) { $1 }, annotations: annotations, startsAt: Date())
            let (fitted, trims) = limits.conform(alert)
            #expect(throws: Never.self) { try limits.check(fitted, field: "a") }
            #expect(fitted.labels["alertname"] == "X")
            if (try? limits.check(alert, field: "a")) != nil { #expect(trims.isEmpty && fitted == alert) }
        }
    }

    @Test func truncationKeepsWholeCharacters() {
        let (fitted, trims) = AlertLimits(maxLabelValueLength: 64).conform(
            AgentAlert(workspace: "w", state: .firing, labels: ["alertname": "X", "v": String(repeating: "€", count: 100)], annotations: [:], startsAt: Date()))
        #expect(fitted.labels["v"]!.utf8.count <= 64)
        #expect(fitted.labels["v"]!.hasSuffix("…"))
        #expect(trims == [AlertLimits.Trim(field: "labels.v", reason: "shortened to 64 bytes")])
    }
}
