import Foundation
import SplitPlaneProtocol
import Testing

@testable import Controller

/// Which support-access changes the agent reports become audit entries.
@Suite struct SupportAccessAuditTests {
    static let until = Date(timeIntervalSince1970: 1_800_003_600)
    static let request = SupportAccessRequest(reason: "jobs failing", requestedBy: "token:ops", requestedAt: Date(timeIntervalSince1970: 1_800_000_000))

    static func actions(_ previous: SupportAccessStatus?, _ current: SupportAccessStatus?, shownBefore: SupportAccessRequest? = nil) -> [String] {
        SupportAccessAuditor.entries(from: previous, to: current, target: "acme/prod", at: Date(), shownBefore: shownBefore).map(\.action)
    }

    @Test func transitionsAreRecordedOnceWithTheirTime() throws {
        let off = SupportAccessStatus(state: .off, proxyPresent: false)
        let granted = SupportAccessStatus(state: .granted, until: Self.until, proxyPresent: true)
        let expired = SupportAccessStatus(state: .expired, until: Self.until, proxyPresent: false)
        #expect(Self.actions(nil, off) == [])
        #expect(Self.actions(off, off) == [])
        #expect(Self.actions(off, granted) == ["support-access-granted"])
        #expect(Self.actions(granted, granted) == [])
        #expect(Self.actions(granted, expired) == ["support-access-expired"])
        #expect(Self.actions(granted, off) == ["support-access-revoked"])
        let entry = try #require(SupportAccessAuditor.entries(from: off, to: granted, target: "acme/prod", at: Date()).first)
        #expect(entry.actor == "customer:acme/prod")
        #expect(entry.detail == "until=\(Timestamp.format(Self.until))")
        // A longer grant is a new grant.
        var extended = granted
        extended.until = Self.until.addingTimeInterval(3600)
        #expect(Self.actions(granted, extended) == ["support-access-granted"])
    }

    @Test func requestsRefusalsAndAProxyWhileClosedAreRecorded() {
        let off = SupportAccessStatus(state: .off, proxyPresent: false)
        var shown = off
        shown.request = Self.request
        #expect(Self.actions(off, shown) == ["support-access-request-shown"])
        #expect(Self.actions(shown, shown) == [])
        // An agent restart reports no request for a moment; the same request is not recorded again.
        #expect(Self.actions(off, shown, shownBefore: Self.request) == [])
        var refused = off
        refused.refused = "Deployment/door carries the label qbeast.io/support-access"
        #expect(Self.actions(off, refused) == ["support-access-refused"])
        let leaking = SupportAccessStatus(state: .off, proxyPresent: true)
        #expect(Self.actions(off, leaking) == ["support-access-proxy-present-while-closed"])
    }
}
