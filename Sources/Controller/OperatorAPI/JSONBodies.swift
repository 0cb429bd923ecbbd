import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore
import SplitPlaneProtocol

/// Reading and writing JSON bodies with the project's rules: size limit, JSON content type,
/// closed schemas, sorted-key output.
public enum JSONBodies {
    /// Default body limit; a workspace spec with inline manifests fits comfortably.
    public static let defaultLimit = 1 << 20

    public static func decode<T: Codable>(
        _ type: T.Type, from request: Request, limit: Int = defaultLimit,
        contentTypes: [String] = ["application/json"]
    ) async throws -> T {
        let body = try await collect(from: request, limit: limit, contentTypes: contentTypes)
        return try StrictJSON.decodeClosed(T.self, from: body)
    }

    /// The request's body, checked for its content type, size and presence, not yet decoded.
    public static func collect(from request: Request, limit: Int = defaultLimit, contentTypes: [String] = ["application/json"]) async throws -> Data {
        if let contentType = request.headers[.contentType], !contentTypes.contains(where: { contentType.lowercased().hasPrefix($0) }) {
            throw APIProblem(.unsupportedMediaType, "expected Content-Type \(contentTypes.joined(separator: " or ")), got \(contentType)")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIProblem(.contentTooLarge, "request body exceeds the \(limit)-byte limit")
        } catch {
            // The client went away (or was cut off) mid-body: nothing to answer and nothing wrong here.
            // Anyone can do this, so it is counted, not logged above debug.
            Counter(label: "qbeast_controller_requests_abandoned_total").increment()
            throw ClientWentAway(underlying: error)
        }
        if buffer.readableBytes == 0 { throw APIProblem(.badRequest, "request body is empty; a JSON object is expected") }
        return Data(buffer: buffer)
    }

    public static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: try encoded(value)))
    }

    /// The body `response` sends: pretty-printed JSON and a newline.
    static func encoded(_ value: some Encodable) throws -> ByteBuffer {
        var data = try StrictJSON.encoder(pretty: true).encode(value)
        data.append(0x0A)
        return ByteBuffer(data: data)
    }
}

/// A request whose body never arrived in full; answered (if anyone is still listening) with 400 and
/// logged at debug.
struct ClientWentAway: Error, CustomStringConvertible {
    var underlying: any Error
    var description: String { "the request body ended early: \(underlying)" }
}
