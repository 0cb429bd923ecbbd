import Agent
import Foundation
import SplitPlaneProtocol
import Testing

/// The customer's support-access switch as the agent reads it (`--support-access`,
/// `--support-access-until`, from the chart's `supportAccess` values): off by default, a grant always ends.
struct SupportAccessSettingsTests {
    func resolve(_ settings: [String: String]) throws -> AgentStartup {
        let all = ["controllerUrl": "https://controller:8444", "caBundle": "ca.pem"].merging(settings) { $1 }
        return try AgentStartup.resolve({ all[$0] }, environment: [:])
    }

    @Test func offByDefault() throws {
        #expect(try resolve([:]).configuration.supportAccess == .off)
        #expect(try resolve(["supportAccess": "false", "supportAccessUntil": "2026-12-05T18:00:00Z"]).configuration.supportAccess.enabled == false)
    }

    @Test func aGrantNeedsAnEnd() throws {
        let grant = try resolve(["supportAccess": "true", "supportAccessUntil": "2026-12-05T18:00:00Z"]).configuration.supportAccess
        #expect(grant.enabled)
        #expect(grant.until == Timestamp.parse("2026-12-05T18:00:00Z"))
        #expect(grant.isOpen(at: Timestamp.parse("2026-12-05T17:59:59Z")!))
        #expect(!grant.isOpen(at: Timestamp.parse("2026-12-05T18:00:00Z")!))
        #expect(grant.state(at: Timestamp.parse("2026-12-05T18:00:01Z")!) == .expired)
        #expect(grant.nextChange(after: Timestamp.parse("2026-12-05T17:00:00Z")!) == grant.until)
        #expect(grant.nextChange(after: Timestamp.parse("2026-12-05T19:00:00Z")!) == nil)
    }

    @Test(arguments: [
        (["supportAccess": "true"], "supportAccessUntil: required when support access is enabled"),
        (["supportAccess": "true", "supportAccessUntil": "tomorrow"], "supportAccessUntil: \"tomorrow\" is not an RFC 3339 time"),
        (["supportAccess": "yes", "supportAccessUntil": "2026-12-05T18:00:00Z"], "supportAccess: \"yes\" is not true or false"),
    ])
    func refusalsNameTheSetting(settings: [String: String], expected: String) {
        do {
            _ = try resolve(settings)
            Issue.record("accepted \(settings)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }
}
