import Foundation
import ServiceSupport

/// Prometheus Alertmanager 0.25 from Debian's `prometheus-alertmanager`, on a free loopback port with
/// clustering off and a temporary data directory: the peer the controller's routing is compared with.
public final class TestAlertmanager: Sendable {
    public let port: Int
    public let directory: URL
    private let process: Process

    public var url: String { "http://127.0.0.1:\(port)" }

    public static var binary: String? {
        ["/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static func start(config: String) async throws -> TestAlertmanager {
        guard let binary else { throw TestServerError.notInstalled("prometheus-alertmanager (apt-get install prometheus-alertmanager)") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qbeast-am-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configFile = directory.appendingPathComponent("alertmanager.yml")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        let port = try freeLoopbackPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--config.file=\(configFile.path)", "--storage.path=\(directory.path)", "--web.listen-address=127.0.0.1:\(port)",
            "--cluster.listen-address=", "--log.level=error",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let alertmanager = TestAlertmanager(port: port, directory: directory, process: process)
        do {
            try await eventually(timeout: .seconds(30), "Alertmanager ready on port \(port)") {
                guard process.isRunning else { throw TestServerError.failed("alertmanager exited with status \(process.terminationStatus)") }
                return (try? await plainHTTP(.GET, "\(alertmanager.url)/-/ready"))?.status == 200
            }
        } catch {
            alertmanager.stop()
            throw error
        }
        return alertmanager
    }

    private init(port: Int, directory: URL, process: Process) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    /// `POST /api/v2/alerts` with a JSON array of alerts.
    public func post(alerts json: Data) async throws {
        let response = try await plainHTTP(.POST, "\(url)/api/v2/alerts", body: json, headers: [("Content-Type", "application/json")])
        guard response.status == 200 else { throw TestServerError.failed("alertmanager refused alerts: \(response.status) \(response.text)") }
    }

    /// `POST /api/v2/silences`; equality matchers only.
    public func silence(_ matchers: [String: String], duration: TimeInterval) async throws {
        let now = Date()
        let body: [String: Any] = [
            "matchers": matchers.map { ["name": $0.key, "value": $0.value, "isRegex": false, "isEqual": true] },
            "startsAt": ISO8601DateFormatter().string(from: now), "endsAt": ISO8601DateFormatter().string(from: now.addingTimeInterval(duration)),
            "createdBy": "test", "comment": "conformance",
        ]
        let response = try await plainHTTP(
            .POST, "\(url)/api/v2/silences", body: try JSONSerialization.data(withJSONObject: body),
            headers: [("Content-Type", "application/json")])
        guard response.status == 200 else { throw TestServerError.failed("alertmanager refused the silence: \(response.status) \(response.text)") }
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
