import ControllerModel
import Foundation
import Logging
import SplitPlaneProtocol
import Synchronization

/// Records in the audit log every change of an environment's support access the agent reports:
/// granted (with until), expired, revoked, and the request shown to the customer. The customer's
/// switch is on their side; this is the controller's record of it. The last state per environment is
/// kept in memory, read from the store once after a restart, so a heartbeat costs no read.
final class SupportAccessAuditor: Sendable {
    private let last = Mutex<[GatewayCache.Key: SupportAccessStatus?]>([:])
    /// The request last audited as shown per environment: an agent restart, whose first report has no
    /// request yet, does not record the same request again.
    private let shown = Mutex<[GatewayCache.Key: SupportAccessRequest]>([:])

    /// The audit entries for the change from `previous` to `current` (none when nothing changed).
    static func entries(
        from previous: SupportAccessStatus?, to current: SupportAccessStatus?, target: String, at now: Date,
        shownBefore: SupportAccessRequest? = nil
    ) -> [AuditEntry] {
        guard let current else { return [] }
        let actor = "customer:\(target)"
        func entry(_ action: String, _ detail: String?) -> AuditEntry {
            AuditEntry(at: now, actor: actor, action: action, target: target, result: current.state.rawValue, detail: detail)
        }
        var entries: [AuditEntry] = []
        let until = current.until.map { "until=\(Timestamp.format($0))" }
        switch (previous?.state ?? .off, current.state) {
        case (let before, .granted) where before != .granted || previous?.until != current.until:
            entries.append(entry("support-access-granted", until))
        case (.granted, .expired): entries.append(entry("support-access-expired", until))
        case (.granted, .off): entries.append(entry("support-access-revoked", nil))
        default: break
        }
        if let request = current.request, request != previous?.request, request != shownBefore {
            entries.append(
                entry(
                    "support-access-request-shown",
                    "requestedBy=\(request.requestedBy) requestedAt=\(Timestamp.format(request.requestedAt)) reason=\(request.reason)"))
        }
        if current.proxyPresent && current.state != .granted && previous?.proxyPresent != true {
            entries.append(entry("support-access-proxy-present-while-closed", "the agent reports the proxy present while access is not granted"))
        }
        if let refused = current.refused, refused != previous?.refused {
            entries.append(entry("support-access-refused", refused))
        }
        return entries
    }

    func record(
        _ report: StatusReport, tenant: String, environment: String, store: any FleetStore & AuditStore, at now: Date, logger: Logger
    ) async {
        let key = GatewayCache.Key(tenant: tenant, environment: environment)
        let current = report.agent.supportAccess
        var previous: SupportAccessStatus?
        if let known = last.withLock({ $0[key] }) {
            previous = known
        } else {
            previous = (try? await store.environment(tenant: tenant, name: environment))?.agent?.supportAccess
        }
        last.withLock { $0[key] = .some(current) }
        let shownBefore = shown.withLock { shown in
            defer { if let request = current?.request { shown[key] = request } }
            return shown[key]
        }
        for entry in Self.entries(from: previous, to: current, target: "\(tenant)/\(environment)", at: now, shownBefore: shownBefore) {
            do {
                try await store.audit(entry)
            } catch {
                logger.error("cannot write the audit record", metadata: ["action": "\(entry.action)", "error": "\(error)"])
            }
        }
    }
}
