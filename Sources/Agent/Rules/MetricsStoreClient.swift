import AlertTemplates
import AsyncHTTPClient
import Foundation
import NIOCore

/// Instant queries against the environment's metrics store through its Prometheus-compatible API
/// (`/api/v1/query`), as vmalert does against VictoriaMetrics.
public final class MetricsStoreClient: Sendable {
    public let baseURL: String
    /// VictoriaMetrics' `step`: how far back an instant query may look for the last sample.
    /// vmalert's default (`-datasource.queryStep`) is 5m, the same as Prometheus' lookback.
    let step: Duration
    let timeout: Duration
    let maxResponseBytes: Int
    private var http: HTTPClient { Self.http }

    /// One client for the process, never shut down: groups share its connection pool. A refused
    /// connection fails the query at once (no retrying until the deadline), so an unreachable store
    /// is reported within one round instead of after the timeout.
    private static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5)))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .enabled(limit: .ratio(50))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init(baseURL: String, step: Duration = .seconds(300), timeout: Duration = .seconds(30), maxResponseBytes: Int = 32 << 20) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.step = step
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }

    /// Evaluates `expression` at `time`. Scalars come back as one sample without labels.
    public func query(_ expression: String, at time: Date) async throws(MetricsStoreError) -> [QuerySample] {
        let url =
            "\(baseURL)/api/v1/query?query=\(Self.formEncode(expression))"
            + "&time=\(String(format: "%.3f", time.timeIntervalSince1970))&step=\(step.components.seconds)s"
        let body: ByteBuffer
        let status: Int
        do {
            let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(timeout.components.seconds))
            status = Int(response.status.code)
            body = try await response.body.collect(upTo: maxResponseBytes)
        } catch let error as NIOTooManyBytesError {
            throw .badResponse("response larger than \(maxResponseBytes) bytes (\(error))")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw .unreachable("no answer from \(baseURL) within \(timeout)")
        } catch {
            throw .unreachable("\(baseURL): \(error)")
        }
        return try Self.parse(body: Data(body.readableBytesView), status: status)
    }

    /// Strict form encoding: everything but unreserved characters, so PromQL's `+`, `&`, `=` survive.
    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func parse(body: Data, status: Int) throws(MetricsStoreError) -> [QuerySample] {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) as? [String: Any] else {
                throw MetricsStoreError.badResponse("HTTP \(status): not a JSON object")
            }
            object = parsed
        } catch let error as MetricsStoreError {
            throw error
        } catch {
            let text = String(decoding: body.prefix(200), as: UTF8.self)
            throw .badResponse("HTTP \(status): not JSON: \(text)")
        }
        if object["status"] as? String != "success" {
            let message = object["error"] as? String ?? "HTTP \(status)"
            if status >= 500 && status != 503 && object["errorType"] == nil { throw .unreachable(message) }
            throw .queryFailed(message)
        }
        guard let data = object["data"] as? [String: Any], let type = data["resultType"] as? String else {
            throw .badResponse("answer has no data.resultType")
        }
        switch type {
        case "vector":
            guard let results = data["result"] as? [[String: Any]] else { throw .badResponse("vector result is not a list") }
            return try results.map { result throws(MetricsStoreError) in
                guard let metric = result["metric"] as? [String: String], let value = result["value"] as? [Any], value.count == 2 else {
                    throw .badResponse("malformed vector sample")
                }
                return QuerySample(labels: metric, value: try sampleValue(value[1]))
            }
        case "scalar":
            guard let value = data["result"] as? [Any], value.count == 2 else { throw .badResponse("malformed scalar") }
            return [QuerySample(labels: [:], value: try sampleValue(value[1]))]
        default:
            throw .queryFailed("expression returned a \(type); alerting rules need an instant vector or a scalar")
        }
    }

    private static func sampleValue(_ raw: Any) throws(MetricsStoreError) -> Double {
        guard let text = raw as? String else { throw .badResponse("sample value is not a string") }
        switch text {
        case "NaN": return .nan
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        default:
            guard let value = Double(text) else { throw .badResponse("sample value \"\(text)\" is not a number") }
            return value
        }
    }
}

/// Why a query produced no answer. `unreachable` is about the store; the others about the query.
public enum MetricsStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreachable(String)
    case queryFailed(String)
    case badResponse(String)

    public var description: String {
        switch self {
        case .unreachable(let message): "metrics store unreachable: \(message)"
        case .queryFailed(let message): "query failed: \(message)"
        case .badResponse(let message): "metrics store answered badly: \(message)"
        }
    }

    /// What went wrong without the store's own words (which can quote the customer's label values).
    public var kind: String {
        switch self {
        case .unreachable: "metrics store unreachable"
        case .queryFailed: "query failed"
        case .badResponse: "metrics store answered badly"
        }
    }

    public var isStoreProblem: Bool {
        switch self {
        case .unreachable, .badResponse: true
        case .queryFailed: false
        }
    }
}
