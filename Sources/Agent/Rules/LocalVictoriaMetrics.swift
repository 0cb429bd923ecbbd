import AsyncHTTPClient
import Foundation
import NIOCore
import ServiceSupport

/// A throwaway VictoriaMetrics (Debian's `victoria-metrics` binary) on a free loopback port with a
/// temporary data directory: what `test-rules` steps the evaluator against, and what tests query.
public final class LocalVictoriaMetrics: Sendable {
    public let port: Int
    public let dataDirectory: URL
    private let process: Process

    public var url: String { "http://127.0.0.1:\(port)" }

    /// The binary (`QBEAST_VICTORIA_METRICS` overrides the search); nil when it is not installed.
    public static var binary: String? {
        if let override = ProcessInfo.processInfo.environment["QBEAST_VICTORIA_METRICS"] { return override }
        return ["/usr/bin/victoria-metrics", "/usr/local/bin/victoria-metrics"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static func start() async throws -> LocalVictoriaMetrics {
        guard let binary else { throw LocalVictoriaMetricsError("victoria-metrics is not installed (apt-get install victoria-metrics)") }
        let port = try freeLoopbackPort()
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("qbeast-vm-\(UUID().uuidString.prefix(8))")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "-httpListenAddr=127.0.0.1:\(port)", "-storageDataPath=\(dataDirectory.path)", "-retentionPeriod=100y",
            // Written history is queried at once: no result cache, no "too fresh" cut-off.
            "-search.disableCache", "-search.latencyOffset=0s", "-loggerLevel=ERROR",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = LocalVictoriaMetrics(port: port, dataDirectory: dataDirectory, process: process)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while clock.now < deadline {
            if (try? await server.get("/health"))?.0 == 200 { return server }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        server.stop()
        throw LocalVictoriaMetricsError("victoria-metrics did not become ready on port \(port)")
    }

    private init(port: Int, dataDirectory: URL, process: Process) {
        self.port = port
        self.dataDirectory = dataDirectory
        self.process = process
    }

    /// Imports samples in Prometheus text format (`name{labels} value timestamp_ms` lines) and makes
    /// them visible to queries at once.
    public func importPrometheus(_ lines: [String]) async throws {
        var request = HTTPClientRequest(url: "\(url)/api/v1/import/prometheus")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: lines.joined(separator: "\n") + "\n"))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == 204 else {
            throw LocalVictoriaMetricsError("import answered \(response.status.code): \(String(buffer: body))")
        }
        _ = try await get("/internal/force_flush")
    }

    private func get(_ path: String) async throws -> (UInt, String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url + path), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (response.status.code, String(buffer: body))
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDirectory)
    }
}

public struct LocalVictoriaMetricsError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
