import ControllerModel
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// The audit log through the store alone: `audit` and `auditRecords(limit:before:)`, the same on SQLite
/// and PostgreSQL.
@Suite struct AuditStoreTests {
    @Test(arguments: TestStoreKind.allCases) func recordsComeBackNewestFirstAndPageByID(_ kind: TestStoreKind) async throws {
        try await withStore(kind, seeded: false) { store in
            #expect(try await store.auditRecords(limit: 10, before: nil).isEmpty)
            try await store.audit(
                AuditEntry(
                    at: t(1), actor: "token:ci", action: "workspace.apply", target: "acme/prod/analytics", result: "200",
                    address: "10.0.0.7", detail: "generation 2"))
            for index in 2...5 {
                try await store.audit(AuditEntry(at: t(Double(index)), actor: "admin", action: "test.\(index)", target: "acme", result: "ok"))
            }

            let all = try await store.auditRecords(limit: 10, before: nil)
            #expect(all.map(\.action) == ["test.5", "test.4", "test.3", "test.2", "workspace.apply"])
            #expect(all.map(\.id) == all.map(\.id).sorted(by: >), "ids grow with each record")
            let first = try #require(all.last)
            #expect(
                first
                    == AuditRecord(
                        id: first.id, at: t(1), actor: "token:ci", action: "workspace.apply", target: "acme/prod/analytics",
                        result: "200", address: "10.0.0.7", detail: "generation 2"))
            #expect(all[0].address == nil && all[0].detail == nil && all[0].at == t(5))

            let page = try await store.auditRecords(limit: 2, before: nil)
            #expect(page.map(\.action) == ["test.5", "test.4"])
            let next = try await store.auditRecords(limit: 2, before: page.last?.id)
            #expect(next.map(\.action) == ["test.3", "test.2"])
            #expect(try await store.auditRecords(limit: 2, before: next.last?.id).map(\.action) == ["workspace.apply"])
            #expect(try await store.auditRecords(limit: 2, before: first.id).isEmpty)
            #expect(try await store.auditRecords(limit: 0, before: nil).isEmpty)
        }
    }
}
