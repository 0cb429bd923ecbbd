import Foundation
import ServiceSupport
import Synchronization
import TestSupport

/// A real HTTPS proxy for tests: Debian's `tinyproxy` on a free loopback port, in the foreground, its log
/// in a temporary directory. It speaks HTTP CONNECT as a corporate proxy does; `stop` kills it (as an
/// outage would) and `start` brings it back on the same port.
public final class TestProxy: Sendable {
    public let port: Int
    public let credentials: (user: String, password: String)?
    let directory: TemporaryDirectory
    private let process = Mutex<Process?>(nil)

    public static let binary = "/usr/bin/tinyproxy"

    public init(credentials: (user: String, password: String)? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw TestServerError.notInstalled("tinyproxy (scripts/install-deps.sh installs Debian's tinyproxy-bin)")
        }
        port = try freeLoopbackPort()
        self.credentials = credentials
        directory = try TemporaryDirectory()
        // tinyproxy drops to `nobody` when started as root: its log directory must be writable for it.
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory.url.path)
        var config = """
            Port \(port)
            Listen 127.0.0.1
            Timeout 120
            LogFile "\(directory.path("proxy.log"))"
            LogLevel Info
            MaxClients 64
            Allow 127.0.0.1

            """
        if let credentials { config += "BasicAuth \(credentials.user) \(credentials.password)\n" }
        try config.write(toFile: directory.path("tinyproxy.conf"), atomically: true, encoding: .utf8)
        try start()
    }

    /// `http://[user:password@]127.0.0.1:<port>`, as `HTTPS_PROXY` takes it.
    public func url(user: String? = nil, password: String? = nil) -> String {
        let auth = user.map { "\($0):\(password ?? "")@" } ?? ""
        return "http://\(auth)127.0.0.1:\(port)"
    }

    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["-d", "-c", directory.path("tinyproxy.conf")]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process.withLock { $0 = process }
    }

    /// Waits until the proxy accepts connections.
    public func ready() async throws {
        try await eventually(timeout: .seconds(10), "tinyproxy listening on \(port)") { self.log.contains("Accepting connections") }
    }

    /// Kills the proxy (SIGKILL, as a crash or an outage would), dropping every tunnel through it.
    public func stop() {
        process.withLock { process in
            guard let running = process else { return }
            kill(running.processIdentifier, SIGKILL)
            running.waitUntilExit()
            process = nil
        }
    }

    public var log: String { (try? String(contentsOfFile: directory.path("proxy.log"), encoding: .utf8)) ?? "" }

    /// The `CONNECT host:port` requests the proxy received.
    public var connects: [String] {
        log.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "): CONNECT ") else { return nil }
            return String(line[range.upperBound...].split(separator: " ").first ?? "")
        }
    }

    public func remove() {
        stop()
        directory.remove()
    }
}
