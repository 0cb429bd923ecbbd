import AsyncHTTPClient
import Foundation
import KubernetesTestServer
import NIOCore
import NIOHTTP1
import SplitPlaneProtocol
import TestSupport

/// A bare HTTP client for talking to the Kubernetes test server the way a Kubernetes client does.
struct KubeClient {
    let baseURL: String
    var token: String? = "test-token"

    struct Answer {
        var status: Int
        var json: JSONValue
        var text: String
    }

    func request(
        _ method: HTTPMethod, _ path: String, body: String? = nil, contentType: String = "application/json",
        userAgent: String = "swift-test/1.0"
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "User-Agent", value: userAgent)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let data = Data(bytes.readableBytesView)
        let json = (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .null
        return Answer(status: Int(response.status.code), json: json, text: String(decoding: data, as: UTF8.self))
    }

    func apply(_ path: String, _ body: String, manager: String = "qbeast-agent", force: Bool = false, dryRun: Bool = false) async throws -> Answer {
        var query = "?fieldManager=\(manager)&force=\(force)"
        if dryRun { query += "&dryRun=All" }
        return try await request(.PATCH, path + query, body: body, contentType: "application/apply-patch+yaml")
    }
}

extension JSONValue {
    subscript(path path: String...) -> JSONValue? {
        var current: JSONValue? = self
        for key in path { current = current?[key] }
        return current
    }

    var int: Int? {
        if case .number(let number) = self { return Int(number) }
        return nil
    }
}

/// A Deployment as the agent would apply it.
func deployment(
    image: String = "nginx:1.27", replicas: Int = 2, labels: [String: String] = ["app": "web"],
    extraContainer: Bool = false
) -> String {
    let labelJSON = labels.map { "\"\($0.key)\":\"\($0.value)\"" }.sorted().joined(separator: ",")
    let sidecar = extraContainer ? #",{"name":"sidecar","image":"busybox:1.36"}"# : ""
    return """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"qbeast","labels":{\(labelJSON)}},
         "spec":{"replicas":\(replicas),"selector":{"matchLabels":{"app":"web"}},
          "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"\(image)","ports":[{"containerPort":80}]}\(sidecar)]}}}}
        """
}

let deploymentPath = "/apis/apps/v1/namespaces/qbeast/deployments/web"

func managers(_ object: JSONValue?) -> [String: JSONValue] {
    var result: [String: JSONValue] = [:]
    for entry in object?["metadata"]?["managedFields"]?.arrayValue ?? [] {
        result["\(entry["manager"]?.stringValue ?? "")/\(entry["operation"]?.stringValue ?? "")"] = entry
    }
    return result
}
