import Agent
import Foundation
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// An agent given several controller URLs (one per replica) uses one and moves on when it gets no answer.
@Suite struct ControllerURLsTests {
    @Test func failuresOnOneURLMoveTheAgentOneStepRoundTheList() {
        let urls = ControllerURLs(["https://a:8444/", "https://b:8444", "https://c:8444"])
        #expect(urls.all == ["https://a:8444", "https://b:8444", "https://c:8444"])
        #expect(urls.current.index == 0 && urls.current.url == "https://a:8444")
        // Three loops failing on the same dead replica at once: one step, not three.
        for _ in 0..<3 { urls.unreachable(0) }
        #expect(urls.current.index == 1 && urls.current.url == "https://b:8444")
        urls.unreachable(1)
        urls.unreachable(2)
        #expect(urls.current.index == 0, "round the list")
    }

    @Test func anUnreachableControllerIsSkippedButAnHTTPErrorIsNot() async throws {
        try await withController(seed: .acmeProd) { fixture in
            let (pki, directory, controller) = (fixture.pki, fixture.directory, fixture.controller)
            let dead = "https://localhost:\(try freeLoopbackPort())"

            let client = try ControllerClient(
                configuration: AgentConfiguration(
                    controllerURLs: [dead, controller.agentURL], tls: pki.agentTLS("acme-prod"),
                    stateDirectory: directory.path("a")))
            await #expect(throws: (any Error).self) { try await client.desiredState(after: 0, timeout: .seconds(1)) }
            #expect(client.urls.current.index == 1, "moved on from the refused connection")
            #expect(try await client.desiredState(after: 0, timeout: .seconds(1)).revision >= 0)
            try await client.shutdown()

            // An environment the controller does not know: 403, an answer — the agent stays where it is.
            let refused = try ControllerClient(
                configuration: AgentConfiguration(
                    controllerURLs: [controller.agentURL, dead],
                    tls: pki.agentTLS("acme-unregistered"), stateDirectory: directory.path("b")))
            await #expect(throws: ControllerClientError.self) { try await refused.desiredState(after: 0, timeout: .seconds(1)) }
            #expect(refused.urls.current.index == 0)
            try await refused.shutdown()
        }
    }

    /// A controller shutting down answers held polls `503` with `Retry-After`: the client reports when
    /// to come back (the agent then waits that long without counting a failure), and stays on the URL.
    @Test func aControllerShuttingDownSaysWhenToComeBack() async throws {
        try await withController(seed: .acmeProd, maxPollTimeout: .seconds(60)) { fixture in
            let client = try ControllerClient(
                configuration: AgentConfiguration(
                    controllerURLs: [fixture.controller.agentURL], tls: fixture.pki.agentTLS("acme-prod"),
                    stateDirectory: fixture.directory.path("a")))
            let revision = try await client.desiredState(after: 0, timeout: .seconds(1)).revision
            async let held: DesiredState = client.desiredState(after: revision, timeout: .seconds(60))
            try await eventually("long poll registered") { await fixture.controller.server.notifier.waiterCount == 1 }
            try await fixture.stopController()
            do {
                _ = try await held
                Issue.record("the held poll was answered with a state")
            } catch ControllerClientError.comeBackLater(let after, let detail) {
                #expect(after >= .seconds(1) && after <= .seconds(60))
                #expect(detail.contains("restarting"))
            }
            try await client.shutdown()
        }
    }

    @Test func retryAfterIsReadInSecondsAndCapped() {
        #expect(ControllerClient.retryAfter("7") == .seconds(7))
        #expect(ControllerClient.retryAfter(" 0 ") == .seconds(0))
        #expect(ControllerClient.retryAfter("86400") == .seconds(300), "at most five minutes")
        #expect(ControllerClient.retryAfter("-1") == nil)
        #expect(ControllerClient.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
    }
}
