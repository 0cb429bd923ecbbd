import AsyncHTTPClient
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A real VictoriaMetrics (Debian's `victoria-metrics` package) on a free loopback port with a
/// temporary data directory, fed through its Prometheus import API. Installed by `make test`.
public final class TestVictoriaMetrics: Sendable {
    public let port: Int
    public let dataDirectory: URL
    private let process: Process

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Locates the binary (`QBEAST_VICTORIA_METRICS` overrides); nil when it is not installed.
    public static var binary: String? {
        if let override = ProcessInfo.processInfo.environment["QBEAST_VICTORIA_METRICS"] { return override }
        return ["/usr/bin/victoria-metrics", "/usr/local/bin/victoria-metrics"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public static func start() async throws -> TestVictoriaMetrics {
        guard let binary else { throw TestServerError.notInstalled("victoria-metrics (apt-get install victoria-metrics, or make test)") }
        let port = try freeLoopbackPort()
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("qbeast-vm-\(UUID().uuidString.prefix(8))")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "-httpListenAddr=127.0.0.1:\(port)", "-storageDataPath=\(dataDirectory.path)", "-retentionPeriod=100y",
            // Tests write history and then query it: no result cache, no "too fresh" cut-off.
            "-search.disableCache", "-search.latencyOffset=0s", "-loggerLevel=ERROR",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = TestVictoriaMetrics(port: port, dataDirectory: dataDirectory, process: process)
        try await server.waitUntilReady()
        return server
    }

    private init(port: Int, dataDirectory: URL, process: Process) {
        self.port = port
        self.dataDirectory = dataDirectory
        self.process = process
    }

    private func waitUntilReady() async throws {
        try await eventually(timeout: .seconds(30), "victoria-metrics on \(port)") {
            (try? await plainHTTP(.GET, "\(self.url)/health"))?.status == 200
        }
    }

    /// Imports samples in Prometheus text format (`name{labels} value timestamp_ms` lines) and makes
    /// them visible to queries at once.
    public func importPrometheus(_ lines: [String]) async throws {
        let answer = try await plainHTTP(.POST, "\(url)/api/v1/import/prometheus", body: Data((lines.joined(separator: "\n") + "\n").utf8))
        guard answer.status == 204 else { throw TestServerError.failed("import answered \(answer.status): \(answer.text)") }
        _ = try await plainHTTP(.GET, "\(url)/internal/force_flush")
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDirectory)
    }
}

/// Plain HTTP for test servers on loopback (no TLS), through the process-wide shared client.
public func plainHTTP(_ method: HTTPMethod, _ url: String, body: Data? = nil, headers: [(String, String)] = []) async throws -> TestResponse {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 64 << 20)
    return TestResponse(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
}

public enum TestServerError: Error, CustomStringConvertible {
    case notInstalled(String)
    case failed(String)

    public var description: String {
        switch self {
        case .notInstalled(let what): "not installed: \(what)"
        case .failed(let what): what
        }
    }
}

/// A port the OS just reported free on 127.0.0.1 (for servers that cannot bind port 0 themselves).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestServerError.failed("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard bound == 0 else { throw TestServerError.failed("bind() failed") }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A loopback TCP listener that accepts connections and never answers: a metrics store that hangs.
public final class SilentListener: Sendable {
    public let port: Int
    private let fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        listen(fd, 16)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    public func close() { _ = Glibc.close(fd) }
}
