import Foundation
import SplitPlaneProtocol

/// How the agent treats an object with respect to support access. Only the environment's
/// observability workspace may carry the support proxy or a request; elsewhere the label is refused,
/// so no workspace spec can slip in another way in.
enum SupportAccessGate {
    enum Verdict: Equatable {
        case ordinary
        /// The proxy or its Service: applied only while the customer's grant is in force.
        case gated
        /// Qbeast's request, shown to the customer.
        case request(SupportAccessRequest)
        case refused(String)
    }

    static func classify(_ manifest: JSONValue, key: ObjectKey, workspace: String) -> Verdict {
        guard let value = manifest["metadata"]?["labels"]?[SupportAccessLabels.gate] else { return .ordinary }
        guard workspace == EnvironmentRequest.observabilityWorkspace else {
            return .refused(
                "\(key) carries the label \(SupportAccessLabels.gate), which only the environment's observability stack may carry; "
                    + SupportAccessRefused.reason)
        }
        switch (value.stringValue, key.kind) {
        case (SupportAccessLabels.gated?, "Deployment"), (SupportAccessLabels.gated?, "Service"):
            return .gated
        case (SupportAccessLabels.request?, "ConfigMap"):
            let data = manifest["data"]
            guard let reason = data?["reason"]?.stringValue, let by = data?["requestedBy"]?.stringValue,
                let at = data?["requestedAt"]?.stringValue.flatMap(Timestamp.parse)
            else { return .refused("\(key) is a support access request without reason, requestedBy and requestedAt") }
            return .request(SupportAccessRequest(reason: reason, requestedBy: by, requestedAt: at))
        default:
            return .refused("\(key) has \(SupportAccessLabels.gate)=\(value.stringValue ?? "?"), which the agent does not know")
        }
    }
}
