import Foundation
import KubernetesAPI
import Metrics
import SplitPlaneProtocol

/// What the agent last verified and announced of support access.
struct SupportAccessObservation: Sendable {
    var proxyPresent = false
    var state: SupportAccessStatus.State?
    var announcedRequest: SupportAccessRequest?
    var refused: String?
}

extension ComponentInstaller {
    static let gatedKinds: [(collection: String, apiVersion: String, kind: String)] = [
        ("apis/apps/v1", "apps/v1", "Deployment"), ("api/v1", "v1", "Service"),
    ]

    /// Every pass: while access is not granted, no support proxy may exist in the namespace — whatever
    /// created it, if it carries the agent's labels it is deleted here (pruning is not relied on alone);
    /// then what is present is recorded for the status, and changes are shown to the customer as Events.
    func enforceSupportAccess() async {
        let now = clock.now()
        let open = supportAccess.isOpen(at: now)
        var present = false
        var removed: [String] = []
        let selector = "\(SupportAccessLabels.gate)=\(SupportAccessLabels.gated)"
        for gated in Self.gatedKinds {
            let collection = "/\(gated.collection)/namespaces/\(namespace)/\(gated.kind.lowercased())s"
            do {
                let items = try await client.get(collection, query: [("labelSelector", selector)])["items"]?.arrayValue ?? []
                for item in items {
                    let name = item["metadata"]?["name"]?.stringValue ?? "?"
                    let owned = item["metadata"]?["labels"]?[OwnershipLabels.managedBy]?.stringValue == OwnershipLabels.managedByValue
                    if !open && owned {
                        do {
                            try await client.delete("\(collection)/\(name)", uid: item["metadata"]?["uid"]?.stringValue)
                            logger.info("support proxy removed: access is not granted", metadata: ["object": "\(gated.kind)/\(name)"])
                            removed.append("\(gated.kind)/\(name)")
                            Counter(label: "qbeast_agent_support_access_enforcements_total").increment()
                            continue
                        } catch let error as KubernetesAPIError where error.isNotFound {
                            continue
                        } catch {
                            logger.warning("cannot remove the support proxy", metadata: ["object": "\(gated.kind)/\(name)", "error": "\(error)"])
                        }
                    }
                    present = true
                }
            } catch {
                // Cannot verify: report it present, the safe assumption for a reviewer.
                logger.warning("cannot verify the support proxy is absent", metadata: ["kind": "\(gated.kind)", "error": "\(error)"])
                present = true
            }
        }
        supportAccessSeen.proxyPresent = present
        Gauge(label: "qbeast_agent_support_access_open").record(open ? 1 : 0)
        if !removed.isEmpty {
            await notify?(
                InstallerEvent(
                    .warning, reason: "SupportAccessEnforced", action: "Enforce",
                    note: "Support access is not granted; removed \(removed.joined(separator: ", "))."))
        }
        await announce(now: now)
    }

    /// Events for the customer: a new request from Qbeast, and every change of the grant.
    private func announce(now: Date) async {
        let request = currentSupportAccessRequest()
        if let request, request != supportAccessSeen.announcedRequest {
            await notify?(
                InstallerEvent(
                    reason: "SupportAccessRequested", action: "Request",
                    note:
                        "Qbeast (\(request.requestedBy)) requests support access: \(request.reason). Nothing is granted until you set "
                        + "supportAccess.enabled=true and supportAccess.until in the agent's Helm values.",
                    regarding: KubernetesEvent.Regarding(apiVersion: "v1", kind: "ConfigMap", name: "qbeast-support-access-request")))
        }
        supportAccessSeen.announcedRequest = request
        let state = supportAccess.state(at: now)
        if state != supportAccessSeen.state {
            if let note = Self.note(state, previous: supportAccessSeen.state, until: supportAccess.until) {
                await notify?(InstallerEvent(reason: "SupportAccess\(state.rawValue)", action: "SupportAccess", note: note))
            }
            logger.info("support access", metadata: ["state": "\(state.rawValue)", "until": "\(supportAccess.until.map(Timestamp.format) ?? "-")"])
            supportAccessSeen.state = state
        }
    }

    static func note(_ state: SupportAccessStatus.State, previous: SupportAccessStatus.State?, until: Date?) -> String? {
        switch state {
        case .granted: "Support access granted by the customer until \(until.map(Timestamp.format) ?? "?"); the support proxy is installed."
        case .expired: "Support access ended at \(until.map(Timestamp.format) ?? "?"); the support proxy was removed."
        case .off: previous == nil ? nil : "Support access is off; the support proxy was removed."
        }
    }

    /// The request carried by the observability stack, if any.
    func currentSupportAccessRequest() -> SupportAccessRequest? {
        progress[EnvironmentRequest.observabilityWorkspace]?.values.lazy.compactMap { $0.plan?.supportAccessRequest }.first
    }

    /// `agent.supportAccess` of the status report.
    public func supportAccessStatus() -> SupportAccessStatus {
        let now = clock.now()
        let refusals = progress.values.flatMap(\.values).compactMap(\.plan).flatMap { plan in
            plan.refusals.values.filter { $0.contains(SupportAccessLabels.gate) }
        }
        return SupportAccessStatus(
            state: supportAccess.state(at: now), until: supportAccess.enabled ? supportAccess.until : nil,
            proxyPresent: supportAccessSeen.proxyPresent, request: currentSupportAccessRequest(), refused: refusals.sorted().first)
    }
}
