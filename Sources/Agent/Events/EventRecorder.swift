import Crypto
import Foundation
import KubernetesAPI
import Logging
import Metrics
import ServiceSupport
import SplitPlaneProtocol

/// Records Kubernetes Events (`events.k8s.io/v1`) in the agent's namespace, as client-go's recorder does:
/// a repeat of the same event is not a new object but a higher `series.count`, written at most once per
/// `seriesInterval`; and at most `burst` new Events, refilled one per `refill`, so a storm of distinct
/// events cannot flood the API server. Best effort: a failure is logged and counted, never thrown.
/// General on purpose: anything in the agent that has something to tell the customer's operators uses it.
public actor EventRecorder {
    public static let reportingController = "qbeast.io/qbeast-agent"

    let client: KubernetesClient
    let namespace: String
    let reportingInstance: String
    let clock: any TimeSource
    let logger: Logger
    let seriesInterval: Duration
    let burst: Int
    let refill: Duration

    private struct Series {
        var name: String
        var count: Int
        var lastWritten: Date
        var written: Bool
    }
    private var series: [KubernetesEvent: Series] = [:]
    private var tokens: Double
    private var tokensAt: Date

    public init(
        client: KubernetesClient, namespace: String, reportingInstance: String, clock: any TimeSource, logger: Logger,
        seriesInterval: Duration = .seconds(60), burst: Int = 25, refill: Duration = .seconds(5)
    ) {
        self.client = client
        self.namespace = namespace
        self.reportingInstance = String(reportingInstance.prefix(128))
        self.clock = clock
        self.logger = logger
        self.seriesInterval = seriesInterval
        self.burst = burst
        self.refill = refill
        tokens = Double(burst)
        tokensAt = clock.now()
    }

    var collection: String { "/apis/events.k8s.io/v1/namespaces/\(namespace)/events" }

    /// Records `event` now: a new Event, or one more in its series.
    public func record(_ event: KubernetesEvent) async {
        let now = clock.now()
        if var existing = series[event] {
            existing.count += 1
            series[event] = existing
            guard now.timeIntervalSince(existing.lastWritten) >= seriesInterval.timeInterval else { return }
            series[event]?.lastWritten = now
            await write(event, series: existing, at: now)
            return
        }
        guard takeToken(at: now) else {
            Counter(label: "qbeast_agent_events_dropped_total", dimensions: [("reason", "rate_limited")]).increment()
            return
        }
        let name = "\(event.regarding.name).\(Hex.sha256("\(event.reason)\u{0}\(event.note)\u{0}\(now.timeIntervalSince1970)", bytes: 8))"
        let created = Series(name: name, count: 1, lastWritten: now, written: false)
        series[event] = created
        await write(event, series: created, at: now)
    }

    /// Events the recorder has seen, with their count (for tests and debugging).
    public var counts: [String: Int] { Dictionary(series.values.map { ($0.name, $0.count) }) { $1 } }

    private func write(_ event: KubernetesEvent, series current: Series, at now: Date) async {
        do {
            if current.written {
                let patch: JSONValue = [
                    "series": ["count": .number(Double(current.count)), "lastObservedTime": .string(Self.microTime(now))]
                ]
                _ = try await client.send(
                    .PATCH, "\(collection)/\(current.name)", body: try JSONEncoder().encode(patch), contentType: "application/merge-patch+json")
            } else {
                _ = try await client.post(collection, object(event, name: current.name, at: now))
                series[event]?.written = true
            }
            Counter(label: "qbeast_agent_events_total", dimensions: [("reason", event.reason)]).increment()
        } catch {
            Counter(label: "qbeast_agent_events_dropped_total", dimensions: [("reason", "api_error")]).increment()
            logger.warning("cannot record a Kubernetes Event", metadata: ["reason": "\(event.reason)", "error": "\(error)"])
        }
    }

    func object(_ event: KubernetesEvent, name: String, at now: Date) -> JSONValue {
        [
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "eventTime": .string(Self.microTime(now)),
            "reportingController": .string(Self.reportingController), "reportingInstance": .string(reportingInstance),
            "action": .string(event.action), "reason": .string(event.reason), "type": .string(event.type.rawValue),
            "note": .string(event.note),
            "regarding": [
                "apiVersion": .string(event.regarding.apiVersion), "kind": .string(event.regarding.kind),
                "name": .string(event.regarding.name), "namespace": .string(namespace),
            ],
        ]
    }

    private func takeToken(at now: Date) -> Bool {
        tokens = min(Double(burst), tokens + now.timeIntervalSince(tokensAt) / refill.timeInterval)
        tokensAt = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// `MicroTime`: RFC 3339 with microseconds, as the Events API requires for `eventTime`.
    static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let micros = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded(.down))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let base = formatter.string(from: Date(timeIntervalSince1970: seconds))
        return base.replacingOccurrences(of: "Z", with: String(format: ".%06dZ", micros))
    }
}
