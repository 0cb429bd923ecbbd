import Foundation
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting
import Testing

/// Identity comes only from a certificate shaped exactly like an X.509-SVID: one URI SAN, a valid
/// SPIFFE ID. Anything else from our own CA is refused with 403 and an audit entry.
@Suite struct AgentIdentityStrictnessTests {
    @Test func certificatesWithAnythingButOneValidSPIFFEIDAreRefusedAndAudited() async throws {
        try await withController(seed: .acmeProd) { fixture in
            let good = "spiffe://qbeast.test/tenant/acme/environment/prod"
            let cases: [(String, [String], String)] = [
                ("two-uris", [good, "https://example.com/x"], "has 2 URI SANs"),
                ("two-spiffe", [good, "spiffe://qbeast.test/tenant/acme/environment/prod/extra"], "has 2 URI SANs"),
                ("no-uri", [], "has no URI SAN"),
                ("uppercase", ["spiffe://QBEAST.TEST/tenant/acme/environment/prod"], "uppercase trust domain"),
                ("dot-segment", ["spiffe://qbeast.test/tenant/acme/environment/prod/.."], "'.' or '..' path segment"),
                ("empty-segment", ["spiffe://qbeast.test/tenant//acme/environment/prod"], "empty path segment"),
                ("percent", ["spiffe://qbeast.test/tenant/acm%65/environment/prod"], "percent-encoded"),
                ("query", ["spiffe://qbeast.test/tenant/acme/environment/prod?x=1"], "has a query"),
                ("fragment", ["spiffe://qbeast.test/tenant/acme/environment/prod#x"], "has a fragment"),
                ("port", ["spiffe://qbeast.test:443/tenant/acme/environment/prod"], "trust domain with a character"),
                ("user", ["spiffe://me@qbeast.test/tenant/acme/environment/prod"], "trust domain with a character"),
                ("scheme", ["SPIFFE://qbeast.test/tenant/acme/environment/prod"], "does not start with spiffe://"),
            ]
            for (name, uris, detail) in cases {
                try fixture.pki.writeAgent(name: name, uris: uris)
                let response = try await fixture.agentClient(name).request(.GET, "/agent/v1/desired?timeout=0", token: nil)
                #expect(response.status == 403, "\(name)")
                #expect(response.problem?.detail.contains(detail) == true, "\(name): \(response.text)")
            }
            let audit = try await fixture.operatorClient.request(.GET, "/v1/audit?limit=100").decode(ListResponse<JSONValue>.self)
            let refusals = audit.items.filter { $0["action"]?.stringValue == "connect" && $0["result"]?.stringValue == "refused" }
            #expect(refusals.count == cases.count)
            #expect(refusals.allSatisfy { $0["target"]?.stringValue?.hasPrefix("certificate ") == true })
            // The well-formed certificate of the same CA still works.
            #expect(try await fixture.agentClient("acme-prod").request(.GET, "/agent/v1/desired?timeout=0", token: nil).status == 200)
        }
    }

    @Test func parserFollowsTheSPIFFEIDSpecification() throws {
        #expect(
            try SPIFFEIdentity.parse("spiffe://qbeast.dev/tenant/acme/environment/prod")
                == SPIFFEIdentity(trustDomain: "qbeast.dev", tenant: "acme", environment: "prod"))
        #expect(try SPIFFEIdentity.parse("spiffe://my_domain-1.example/tenant/a/environment/b").trustDomain == "my_domain-1.example")
        for bad in [
            "spiffe://Qbeast.dev/tenant/a/environment/b", "spiffe:///tenant/a/environment/b", "spiffe://qbeast.dev/tenant/a/environment/b/",
            "spiffe://qbeast.dev/tenant/A/environment/b", "spiffe://qbeast.dev/tenant/a/environment", "spiffe://qbeast.dev",
            "spiffe://qbeast.dev/tenant/./environment/b", "spiffe://qbeast.dev/tenant/a%2fb/environment/b",
            "spiffe://" + String(repeating: "a", count: 2050),
        ] {
            #expect(throws: SPIFFEIDError.self, "\(bad)") { try SPIFFEIdentity.parse(bad) }
        }
    }
}
