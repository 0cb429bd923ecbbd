import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import ServiceSupport
import Synchronization

/// A local stand-in for an Alertmanager's receiving side: accepts `POST /api/v2/alerts` (what vmalert
/// and Prometheus send) and records every alert with the time it arrived. Used to watch a peer.
public final class AlertmanagerAPIReceiver: Sendable {
    public struct Received: Sendable, Equatable {
        public var labels: [String: String]
        public var annotations: [String: String]
        public var startsAt: Date?
        public var endsAt: Date?
        public var receivedAt: Date

        /// Alertmanager's reading: an alert whose `endsAt` has passed is resolved.
        public var isResolved: Bool { endsAt.map { $0 <= receivedAt.addingTimeInterval(1) } ?? false }
    }

    private let server: LoopbackServer
    public var port: Int { server.port }
    private final class Recorder: Sendable {
        let alerts = Mutex<[Received]>([])
    }

    private let received: Recorder

    public var url: String { "http://127.0.0.1:\(port)" }
    public var alerts: [Received] { received.alerts.withLock { $0 } }

    public static func start() async throws -> AlertmanagerAPIReceiver {
        let received = Recorder()
        let router = Router()
        router.post("/api/v2/alerts") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            guard let array = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [[String: Any]] else {
                return Response(status: .badRequest)
            }
            let now = Date()
            let alerts = array.map { object in
                Received(
                    labels: object["labels"] as? [String: String] ?? [:], annotations: object["annotations"] as? [String: String] ?? [:],
                    startsAt: (object["startsAt"] as? String).flatMap(parseTime), endsAt: (object["endsAt"] as? String).flatMap(parseTime),
                    receivedAt: now)
            }
            received.alerts.withLock { $0 += alerts }
            return Response(status: .ok)
        }
        return AlertmanagerAPIReceiver(server: await LoopbackServer.start(router, label: "alertmanager-receiver"), received: received)
    }

    private init(server: LoopbackServer, received: Recorder) {
        self.server = server
        self.received = received
    }

    public func stop() async throws { try await server.stop() }
}

/// Go writes RFC 3339 with nanoseconds; Foundation's parser wants at most milliseconds.
private func parseTime(_ text: String) -> Date? {
    var trimmed = text
    if let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
        let fraction = text[text.index(after: dot)..<zone].prefix(3)
        trimmed = String(text[..<dot]) + "." + fraction.padding(toLength: 3, withPad: "0", startingAt: 0) + String(text[zone...])
    }
    return (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(trimmed)) ?? (try? Date.ISO8601FormatStyle().parse(trimmed))
}

/// vmalert 1.79 from Debian's `victoria-metrics` package, run as a peer on loopback.
public final class TestVMAlert: Sendable {
    private let process: Process
    public let directory: URL

    public static var binary: String? {
        ["/usr/bin/vmalert", "/usr/local/bin/vmalert"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static func start(rules: String, datasource: String, notifier: String, evaluationInterval: String) throws -> TestVMAlert {
        guard let binary else { throw TestServerError.notInstalled("vmalert (apt-get install victoria-metrics)") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qbeast-vmalert-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let rulesFile = directory.appendingPathComponent("rules.yml")
        try rules.write(to: rulesFile, atomically: false, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "-rule=\(rulesFile.path)", "-datasource.url=\(datasource)", "-notifier.url=\(notifier)",
            "-evaluationInterval=\(evaluationInterval)", "-httpListenAddr=127.0.0.1:\(try freeLoopbackPort())",
            "-loggerLevel=ERROR",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return TestVMAlert(process: process, directory: directory)
    }

    private init(process: Process, directory: URL) {
        self.process = process
        self.directory = directory
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
