import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Every list pages with `limit` and an opaque `cursor`, and filters; pages are keyed on names, so a
/// change between two pages neither repeats nor skips what stays.
@Suite struct ListPaginationTests {
    @Test(arguments: TestStoreKind.allCases) func pagesFollowTheCursorToTheEnd(_ kind: TestStoreKind) async throws {
        try await withController(store: kind) { fixture in
            let api = fixture.operatorClient
            for name in ["delta", "alpha", "echo", "charlie", "bravo"] {
                try await fixture.mustSucceed(.POST, "/v1/tenants", json: #"{"name":"\#(name)"}"#)
            }
            var first = try await api.request(.GET, "/v1/tenants?limit=2").decode(ListResponse<Tenant>.self)
            #expect(first.items.map(\.name) == ["alpha", "bravo"])
            let cursor = try #require(first.next)
            // Deleting an item already seen does not shift the next page.
            #expect(try await api.request(.DELETE, "/v1/tenants/alpha").status == 204)
            let second = try await api.request(.GET, "/v1/tenants?limit=2&cursor=\(cursor)").decode(ListResponse<Tenant>.self)
            #expect(second.items.map(\.name) == ["charlie", "delta"])
            let last = try await api.request(.GET, "/v1/tenants?limit=2&cursor=\(try #require(second.next))").decode(ListResponse<Tenant>.self)
            #expect(last.items.map(\.name) == ["echo"])
            #expect(last.next == nil)
            first = try await api.request(.GET, "/v1/tenants").decode(ListResponse<Tenant>.self)
            #expect(first.items.count == 4 && first.next == nil)

            for query in ["limit=0", "limit=1001", "limit=two", "cursor=not-ours", "namePrefix=Upper"] {
                let response = try await api.request(.GET, "/v1/tenants?\(query)")
                #expect(response.status == 400, "\(query)")
                #expect(response.text.contains(query.split(separator: "=")[0]), "\(response.text)")
            }
            #expect(try await api.request(.GET, "/v1/tenants?namePrefix=ch").decode(ListResponse<Tenant>.self).items.map(\.name) == ["charlie"])

            try await fixture.mustSucceed(.POST, "/v1/tenants/delta/environments", json: #"{"name":"prod","cloud":"aws","mode":"provided"}"#)
            try await fixture.mustSucceed(.POST, "/v1/tenants/delta/environments", json: #"{"name":"eu","cloud":"gcp","mode":"managed"}"#)
            let gcp = try await api.request(.GET, "/v1/tenants/delta/environments?cloud=gcp").decode(ListResponse<Environment>.self)
            #expect(gcp.items.map(\.name) == ["eu"])
            #expect(try await api.request(.GET, "/v1/tenants/delta/environments?cloud=ibm").status == 400)

            try await fixture.mustSucceed(.POST, "/v1/tokens", json: #"{"name":"support","role":"operator"}"#)
            try await fixture.mustSucceed(.POST, "/v1/tokens", json: #"{"name":"acme-viewer","role":"viewer","tenant":"delta"}"#)
            let viewers = try await api.request(.GET, "/v1/tokens?role=viewer").decode(ListResponse<APIToken>.self)
            #expect(viewers.items.map(\.name) == ["acme-viewer"])
        }
    }
}
