import Agent
import AsyncHTTPClient
import Foundation
import NIOCore
import ServiceSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A real VictoriaMetrics for tests: the agent's own `LocalVictoriaMetrics` launcher (Debian's
/// `victoria-metrics`, a free loopback port, a temporary data directory).
public typealias TestVictoriaMetrics = LocalVictoriaMetrics

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
