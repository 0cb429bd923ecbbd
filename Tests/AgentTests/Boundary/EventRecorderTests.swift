import Foundation
import KubernetesAPI
import Logging
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Agent

/// Kubernetes Events (`events.k8s.io/v1`) against the Kubernetes test server: one object per series,
/// repeats counted on it, new series rate-limited.
struct EventRecorderTests {
    let regarding = KubernetesEvent.Regarding(apiVersion: "apps/v1", kind: "Deployment", name: "qbeast-agent")

    func recorder(_ client: KubernetesClient, clock: ManualTimeSource, burst: Int = 25) -> EventRecorder {
        var logger = Logger(label: "events-test")
        logger.logLevel = .critical
        return EventRecorder(client: client, namespace: "qbeast", reportingInstance: "qbeast-agent-0", clock: clock, logger: logger, burst: burst)
    }

    /// A client of the test server, shut down after `body`.
    func withClient(_ body: (KubernetesTestServer, KubernetesClient) async throws -> Void) async throws {
        let server = await KubernetesTestServer.start()
        let client = try KubernetesClient(connection: KubernetesConnection(server: server.url, namespace: "qbeast", credential: .token("test-token")))
        do { try await body(server, client) } catch {
            try? await client.shutdown()
            try? await server.stop()
            throw error
        }
        try await client.shutdown()
        try await server.stop()
    }

    @Test func repeatsRaiseTheSeriesCountInsteadOfMakingNewObjects() async throws {
        try await withClient { server, client in
            let clock = ManualTimeSource()
            let events = recorder(client, clock: clock)
            let drop = KubernetesEvent(
                type: .warning, reason: "BoundaryDropped", action: "Filter", note: "workspace w, rule R: labels.email kept back (label_name)",
                regarding: regarding)
            await events.record(drop)
            var stored = server.objects(apiVersion: "events.k8s.io/v1", kind: "Event", namespace: "qbeast")
            #expect(stored.count == 1)
            let event = try #require(stored.first)
            #expect(event["reason"]?.stringValue == "BoundaryDropped")
            #expect(event["type"]?.stringValue == "Warning")
            #expect(event["regarding"]?["kind"]?.stringValue == "Deployment")
            #expect(event["regarding"]?["name"]?.stringValue == "qbeast-agent")
            #expect(event["reportingController"]?.stringValue == EventRecorder.reportingController)
            #expect(event["eventTime"]?.stringValue?.contains(".") == true, "MicroTime")
            #expect(event["series"] == nil)

            await events.record(drop)  // within the series interval: counted, not written
            await events.record(drop)
            #expect(server.requests.filter { $0.method == "PATCH" }.isEmpty)
            clock.advance(by: .seconds(61))
            await events.record(drop)
            stored = server.objects(apiVersion: "events.k8s.io/v1", kind: "Event", namespace: "qbeast")
            #expect(stored.count == 1, "still one object")
            #expect(stored.first?["series"]?["count"] == .number(4))
            #expect(stored.first?["series"]?["lastObservedTime"]?.stringValue != nil)

            await events.record(KubernetesEvent(type: .normal, reason: "CertificateRenewed", action: "Renew", note: "serial 1", regarding: regarding))
            #expect(server.objects(apiVersion: "events.k8s.io/v1", kind: "Event", namespace: "qbeast").count == 2, "another event, another object")
        }
    }

    @Test func aStormOfDistinctEventsIsRateLimited() async throws {
        try await withClient { server, client in
            let clock = ManualTimeSource()
            let events = recorder(client, clock: clock, burst: 3)
            for index in 0..<10 {
                await events.record(KubernetesEvent(type: .warning, reason: "BoundaryDropped", action: "Filter", note: "rule \(index)", regarding: regarding))
            }
            #expect(server.objects(apiVersion: "events.k8s.io/v1", kind: "Event", namespace: "qbeast").count == 3)
            clock.advance(by: .seconds(5))
            await events.record(KubernetesEvent(type: .warning, reason: "BoundaryDropped", action: "Filter", note: "rule 10", regarding: regarding))
            #expect(server.objects(apiVersion: "events.k8s.io/v1", kind: "Event", namespace: "qbeast").count == 4, "refilled over time")
        }
    }
}
