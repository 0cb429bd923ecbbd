import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /openapi.yaml`: the operator API's OpenAPI 3.1 document, shipped with the controller.
public enum OpenAPIDocument {
    /// The document as kept in the repository (`Sources/Controller/Resources/openapi.yaml`).
    public static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "openapi: 3.1.0\n" }
        return text
    }()

    static func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("openapi.yaml") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
