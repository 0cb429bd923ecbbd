import Foundation
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting

/// The controller's alert intake and routing against Prometheus Alertmanager 0.25, same machine, same
/// alert mix, same route (group by tenant, environment, alertname; group_wait 0), both delivering to
/// one local webhook receiver.
///
/// - Intake: 10,000 distinct alerts (100 alertnames × 100 instances) in batches of 500, four senders
///   at once; the time until every batch is accepted, and until every alert has reached the webhook.
///   The controller accepts over mutual TLS (HTTP/2) and files each alert into its group in the same
///   SQLite transaction; Alertmanager accepts plain HTTP into memory and routes afterwards.
/// - Latency: a single new alert (a new group) from arrival to its webhook delivery, 30 times.
enum AlertRoutingBench {
    struct Figures {
        var acceptSeconds: Double
        var deliveredSeconds: Double
        /// Sorted.
        var latencies: [Double]
        /// The first sample, taken right after the storm, and the slowest of the others.
        var firstLatency: Double
        var laterLatencyMax: Double
    }

    static let alertCount = 10_000
    static let batchSize = 500

    static func routing(_ url: String) -> String {
        """
        route:
          receiver: hook
          group_by: [tenant, environment, alertname]
          group_wait: 0s
          group_interval: 1s
          repeat_interval: 1h
        receivers:
          - name: hook
            webhook_configs:
              - url: \(url)
        """
    }

    static func labels(_ index: Int, prefix: String = "Bench") -> [String: String] {
        ["alertname": "\(prefix)\(index / 100)", "instance": "i-\(index % 100)", "severity": "warning"]
    }

    /// Distinct alerts seen by the receiver on `path` (alertname/instance of every alert in every payload).
    static func delivered(_ receiver: WebhookTestServer, _ path: String, after skipped: Int = 0) -> Set<String> {
        var seen = Set<String>()
        for message in receiver.received.dropFirst(skipped) where message.path == path {
            for alert in message.json?["alerts"]?.arrayValue ?? [] {
                seen.insert("\(alert["labels"]?["alertname"]?.stringValue ?? "")/\(alert["labels"]?["instance"]?.stringValue ?? "")")
            }
        }
        return seen
    }

    /// Polls the receiver until `count` distinct alerts arrived on `path` among the messages after the first `skipped`.
    static func waitFor(
        _ count: Int, _ receiver: WebhookTestServer, _ path: String, prefix: String? = nil, after skipped: Int = 0,
        timeout: TimeInterval = 120
    ) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let seen = delivered(receiver, path, after: skipped)
            if (prefix.map { p in seen.filter { $0.hasPrefix(p) }.count } ?? seen.count) >= count { return }
            try await Task.sleep(for: .microseconds(200))
        }
        throw TestServerError.failed("only \(delivered(receiver, path).count) of \(count) alerts reached \(path)")
    }

    /// `encode` turns a batch into the request body before the clock starts: only acceptance is timed.
    static func measure(
        _ name: String, receiver: WebhookTestServer, path: String, encode: @escaping @Sendable ([[String: String]]) throws -> Data,
        post: @escaping @Sendable (Data) async throws -> Void
    ) async throws -> Figures {
        let batches = try stride(from: 0, to: alertCount, by: batchSize).map { start in try encode((start..<(start + batchSize)).map { labels($0) }) }
        let started = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<4 {
                group.addTask {
                    for batch in batches.enumerated() where batch.offset % 4 == lane { try await post(batch.element) }
                }
            }
            try await group.waitForAll()
        }
        let accepted = Date().timeIntervalSince(started)
        try await waitFor(alertCount, receiver, path)
        let delivered = Date().timeIntervalSince(started)
        var latencies: [Double] = []
        for index in 0..<30 {
            let alert = labels(index * 100, prefix: "Latency\(index)x")
            let skipped = receiver.received.count
            let sent = Date()
            let body = try encode([alert])
            try await post(body)
            try await waitFor(1, receiver, path, prefix: "Latency\(index)x", after: skipped, timeout: 30)
            latencies.append(Date().timeIntervalSince(sent))
        }
        print(
            "bench: \(name): \(alertCount) alerts accepted in \(String(format: "%.2f", accepted)) s, all delivered after \(String(format: "%.2f", delivered)) s"
        )
        return Figures(
            acceptSeconds: accepted, deliveredSeconds: delivered, latencies: latencies.sorted(), firstLatency: latencies[0],
            laterLatencyMax: latencies.dropFirst().max() ?? 0)
    }

    static func run(work: TemporaryDirectory) async throws -> (ours: Figures, alertmanager: Figures) {
        let receiver = try await WebhookTestServer.start()
        defer { Task { try? await receiver.stop() } }

        let alertmanager = try await TestAlertmanager.start(config: routing(receiver.url("/alertmanager")))
        let theirs = try await measure(
            "Alertmanager 0.25", receiver: receiver, path: "/alertmanager",
            encode: { batch in
                try JSONSerialization.data(
                    withJSONObject: batch.map { labels in
                        ["labels": labels.merging(["tenant": "acme", "environment": "prod"]) { $1 }, "startsAt": Timestamp.format(Date())]
                    })
            }, post: { body in try await alertmanager.post(alerts: body) })
        alertmanager.stop()

        let pki = try TestPKI()
        defer { pki.remove() }
        try routing(receiver.url("/controller")).write(toFile: work.path("routing.yaml"), atomically: true, encoding: .utf8)
        let controller = try await TestController.start(
            pki: pki, databasePath: work.path("bench-controller.sqlite"),
            routingConfigPath: work.path("routing.yaml"))
        let api = try TestHTTPClient.operatorClient(controller, pki: pki)
        _ = try await api.request(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
        _ = try await api.request(.POST, "/v1/tenants/acme/environments", json: #"{"name":"prod","cloud":"aws","mode":"provided"}"#)
        _ = try await api.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: #"{"spec":{}}"#)
        try await api.shutdown()
        let agent = try TestHTTPClient.agentClient(controller, pki: pki, agent: "acme-prod")
        let sequence = SequenceCounter()
        let ours = try await measure(
            "controller", receiver: receiver, path: "/controller",
            encode: { batch in
                let alerts = batch.map { AgentAlert(workspace: "analytics", state: .firing, labels: $0, annotations: [:], startsAt: Date()) }
                return try StrictJSON.encode(AlertBatch(instance: "bench", sequence: sequence.next(), alerts: alerts))
            },
            post: { body in
                let response = try await agent.request(.POST, "/agent/v1/alerts", body: body, token: nil)
                guard response.status == 200 else { throw TestServerError.failed("controller refused a batch: \(response.status) \(response.text)") }
            })
        try await agent.shutdown()
        try await controller.stop()
        return (ours, theirs)
    }
}

final class SequenceCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64 = 0
    func next() -> Int64 { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
