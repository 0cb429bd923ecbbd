import AsyncHTTPClient
import Foundation
import NIOCore
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting

/// The fleet's real alert pattern: many agents, each sending a batch of one alert when a rule fires.
/// `agents` clients (each its own certificate and connection to the controller, made before the clock
/// starts) send `alertsPerAgent` single-alert batches one after another, all agents at once. The peer
/// is Alertmanager 0.25 receiving the same alerts as single-alert posts from as many concurrent
/// senders (plain HTTP, up to one connection each). Same route as the batch intake; every alert opens
/// a group of its own (tenant, environment, alertname), so each side also sends one notification per alert.
enum SingleAlertIntakeBench {
    struct Figures {
        var acceptSeconds: Double
        /// Until every notification reached the webhook; nil when that took longer than the bench waits.
        var deliveredSeconds: Double?
    }

    static let agents = Int(ProcessInfo.processInfo.environment["BENCH_SINGLE_AGENTS"] ?? "") ?? 1000
    static let alertsPerAgent = 10
    static var alertCount: Int { agents * alertsPerAgent }

    static func labels(agent: Int, alert: Int) -> [String: String] {
        ["alertname": "Single\(alert)", "instance": "i-\(agent)", "severity": "warning"]
    }

    /// Counts notifications on `path` until `count` arrived (one alert each); cheap enough not to steal the measured process's CPU.
    static func waitForNotifications(_ count: Int, _ receiver: WebhookTestServer, _ path: String, timeout: TimeInterval) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if receiver.received.lazy.filter({ $0.path == path }).count >= count { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Every agent sends its alerts in order, all agents at once; then waits for every notification on
    /// `path`. `warmUp` runs first, untimed (it opens the connections).
    static func measure(
        _ name: String, receiver: WebhookTestServer, path: String,
        warmUp: @escaping @Sendable (_ agent: Int) async throws -> Void,
        post: @escaping @Sendable (_ agent: Int, _ alert: Int) async throws -> Void
    ) async throws -> Figures {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for agent in 0..<agents { group.addTask { try await warmUp(agent) } }
            try await group.waitForAll()
        }
        let skipped = receiver.received.lazy.filter { $0.path == path }.count
        let started = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for agent in 0..<agents {
                group.addTask { for alert in 0..<alertsPerAgent { try await post(agent, alert) } }
            }
            try await group.waitForAll()
        }
        let accepted = Date().timeIntervalSince(started)
        let delivered = try await waitForNotifications(skipped + alertCount, receiver, path, timeout: 300) ? Date().timeIntervalSince(started) : nil
        print(
            "bench: \(name): \(alertCount) single-alert batches from \(agents) senders accepted in \(String(format: "%.2f", accepted)) s, "
                + (delivered.map { "all notified after \(String(format: "%.2f", $0)) s" } ?? "not all notified within 300 s"))
        return Figures(acceptSeconds: accepted, deliveredSeconds: delivered)
    }

    static func run(work: TemporaryDirectory) async throws -> (ours: Figures, alertmanager: Figures) {
        let receiver = try await WebhookTestServer.start()
        defer { Task { try? await receiver.stop() } }

        let alertmanager = try await TestAlertmanager.start(config: AlertRoutingBench.routing(receiver.url("/alertmanager")))
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = agents
        let senders = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let amURL = "\(alertmanager.url)/api/v2/alerts"
        @Sendable func postToAlertmanager(_ body: Data) async throws {
            var request = HTTPClientRequest(url: amURL)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await senders.execute(request, timeout: .seconds(60))
            _ = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw TestServerError.failed("alertmanager refused an alert: \(response.status)") }
        }
        // Bodies encoded before the clock starts, on both sides.
        let amBodies = try (0..<agents).map { agent in
            try (0..<alertsPerAgent).map { alert in
                try JSONSerialization.data(withJSONObject: [
                    [
                        "labels": labels(agent: agent, alert: alert).merging(["tenant": "acme", "environment": "e\(agent)"]) { $1 },
                        "startsAt": Timestamp.format(Date()),
                    ]
                ])
            }
        }
        let theirs = try await measure(
            "Alertmanager 0.25", receiver: receiver, path: "/alertmanager",
            warmUp: { _ in try await postToAlertmanager(Data("[]".utf8)) },
            post: { agent, alert in try await postToAlertmanager(amBodies[agent][alert]) })
        try await senders.shutdown()
        alertmanager.stop()

        let pki = try TestPKI()
        defer { pki.remove() }
        try AlertRoutingBench.routing(receiver.url("/controller")).write(toFile: work.path("single-routing.yaml"), atomically: true, encoding: .utf8)
        let controller = try await TestController.start(
            pki: pki, databasePath: work.path("single-controller.sqlite"), routingConfigPath: work.path("single-routing.yaml"))
        let api = try TestHTTPClient.operatorClient(controller, pki: pki)
        _ = try await api.request(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<8 {
                group.addTask {
                    for agent in stride(from: lane, to: agents, by: 8) {
                        let created = try await api.request(
                            .POST, "/v1/tenants/acme/environments", json: #"{"name":"e\#(agent)","cloud":"aws","mode":"provided"}"#)
                        let applied = try await api.request(.PUT, "/v1/tenants/acme/environments/e\(agent)/workspaces/analytics", json: #"{"spec":{}}"#)
                        guard created.status == 201, applied.status == 201 else { throw TestServerError.failed("cannot set up environment e\(agent)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        try await api.shutdown()
        for agent in 0..<agents {
            try pki.writeAgent(name: "e\(agent)", uris: ["spiffe://\(pki.trustDomain)/tenant/acme/environment/e\(agent)"])
        }
        let clients = try (0..<agents).map { try TestHTTPClient.agentClient(controller, pki: pki, agent: "e\($0)") }
        let bodies = try (0..<agents).map { agent in
            try (0..<alertsPerAgent).map { alert in
                let firing = AgentAlert(
                    workspace: "analytics", state: .firing, labels: labels(agent: agent, alert: alert), annotations: [:], startsAt: Date())
                return try StrictJSON.encode(AlertBatch(instance: "bench-e\(agent)", sequence: Int64(alert + 1), alerts: [firing]))
            }
        }
        let ours = try await measure(
            "controller", receiver: receiver, path: "/controller",
            warmUp: { agent in
                let answer = try await clients[agent].request(.GET, "/agent/v1/desired?after=0", token: nil)
                guard answer.status == 200 else { throw TestServerError.failed("agent e\(agent) cannot reach the controller: \(answer.status)") }
            },
            post: { agent, alert in
                let response = try await clients[agent].request(.POST, "/agent/v1/alerts", body: bodies[agent][alert], token: nil)
                guard response.status == 200 else { throw TestServerError.failed("controller refused a batch: \(response.status) \(response.text)") }
            })
        for client in clients { try await client.shutdown() }
        try await controller.stop()
        return (ours, theirs)
    }
}
