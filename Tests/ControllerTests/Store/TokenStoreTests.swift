import ControllerModel
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Operator API tokens through the store alone: `createToken`, `tokens`, `token(hash:)`, `revokeToken`.
/// The same expectations on SQLite and PostgreSQL.
@Suite struct TokenStoreTests {
    func token(_ id: String, _ name: String, _ role: APIRole, tenant: String? = nil, created: Date) -> APIToken {
        APIToken(id: id, name: name, role: role, tenant: tenant, createdAt: created, createdBy: "admin", revokedAt: nil)
    }

    @Test(arguments: TestStoreKind.allCases) func tokensAreListedByCreationWithEveryField(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.tokens().isEmpty)
            let viewer = token("t-b", "dashboards", .viewer, tenant: "acme", created: t(1))
            let editor = token("t-a", "deploys", .editor, tenant: "acme", created: t(1))
            let admin = token("t-c", "root", .admin, created: t(0))
            let automation = token("t-d", "automation", .operator, created: t(2))
            for (index, token) in [viewer, editor, admin, automation].enumerated() { try await store.createToken(token, hash: "hash-\(index)") }
            #expect(try await store.tokens() == [admin, editor, viewer, automation], "by creation time, then id")
            #expect(try await store.token(hash: "hash-0") == viewer)
            #expect(try await store.token(hash: "hash-2") == admin)
            #expect(try await store.token(hash: "nope") == nil)
        }
    }

    @Test(arguments: TestStoreKind.allCases) func aRevokedTokenIsListedButNoLongerFound(_ kind: TestStoreKind) async throws {
        try await withStore(kind) { store in
            try await store.createToken(token("t1", "ci", .operator, created: t(0)), hash: "hash-1")
            try await store.createToken(token("t2", "backup", .viewer, tenant: "acme", created: t(1)), hash: "hash-2")
            let revoked = try await store.revokeToken(id: "t1", at: t(10))
            var expected = token("t1", "ci", .operator, created: t(0))
            expected.revokedAt = t(10)
            #expect(revoked == expected)
            #expect(try await store.token(hash: "hash-1") == nil)
            #expect(try await store.token(hash: "hash-2")?.id == "t2", "the others still work")
            #expect(try await store.tokens().map(\.revokedAt) == [t(10), nil])
            #expect(try await store.revokeToken(id: "t1", at: t(20)) == expected, "revoked once")
            await expectStoreError(.notFound("token \"nope\" not found")) { _ = try await store.revokeToken(id: "nope", at: t(10)) }

            // Its name is free again; the revoked token stays on the list.
            try await store.createToken(token("t3", "ci", .admin, created: t(30)), hash: "hash-3")
            #expect(try await store.token(hash: "hash-3")?.role == .admin)
            #expect(try await store.tokens().map(\.id) == ["t1", "t2", "t3"])
            await expectStoreError(.conflict("a live token named \"backup\" exists; revoke it first or pick another name")) {
                try await store.createToken(token("t4", "backup", .viewer, tenant: "acme", created: t(40)), hash: "hash-4")
            }
            #expect(try await store.token(hash: "hash-4") == nil, "nothing stored")
        }
    }
}
