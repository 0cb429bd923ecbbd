import Controller
import Foundation
import Logging
import PostgresDriver
import SQLStorage
import SplitPlaneTesting
import Testing
import Yams

/// The OpenAPI document and the router describe the same API: a route the document lacks, or a
/// documented operation no route serves, fails here.
@Suite struct OpenAPIContractTests {
    static let documentPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources/Controller/Resources/openapi.yaml").path

    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationIsRouted() async throws {
        let pki = try TestPKI()
        let directory = try TemporaryDirectory()
        defer { pki.remove(); directory.remove() }
        var configuration = ControllerConfiguration(
            tls: pki.serverTLS, databasePath: directory.path("c.sqlite"), adminTokens: ["x".padding(toLength: 20, withPad: "x", startingAt: 0)])
        configuration.issuingCA = pki.issuingCA
        let server = try ControllerServer(
            configuration: configuration, store: try SQLStore.sqlite(path: directory.path("c.sqlite")), logger: Logger(label: "test"))
        let routed = Set(
            server.operatorRouter().routes.map { route in
                "\(route.method.rawValue) "
                    + route.path.description.split(separator: "/").map { part in
                        part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
                    }.reduce("") { $0 + "/" + $1 }
            })
        let document = try #require(try Yams.load(yaml: String(contentsOfFile: Self.documentPath, encoding: .utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(
            paths.flatMap { path, item in
                item.keys.filter { ["get", "put", "post", "delete", "patch"].contains($0) }.map { "\($0.uppercased()) \(path)" }
            })
        #expect(routed.subtracting(documented).sorted() == [], "routes the document lacks")
        #expect(documented.subtracting(routed).sorted() == [], "documented operations no route serves")
        #expect(routed.count > 30)
    }

    @Test func theControllerServesTheDocumentWithoutAToken() async throws {
        try await withController { fixture in
            let client = fixture.operatorClient
            let served = try await client.request(.GET, "/openapi.yaml", token: nil)
            #expect(served.status == 200 && served.headers["Content-Type"].first == "application/yaml")
            #expect(served.text == (try String(contentsOfFile: Self.documentPath, encoding: .utf8)))
            let wrongMethod = try await client.request(.PATCH, "/v1/tenants", json: "{}")
            #expect(wrongMethod.status == 405 && wrongMethod.headers["Allow"].first == "GET, POST", "\(wrongMethod.text)")
            #expect(wrongMethod.headers["Content-Type"].first == "application/problem+json")
            #expect(try await client.request(.GET, "/v1/nothing-here").status == 404)
        }
    }
}
