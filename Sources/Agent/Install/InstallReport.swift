import Foundation
import SplitPlaneProtocol

/// What the agent says about a workspace's installation: per component and object, and the
/// workspace conditions `Applied`, `Ready` and `Degraded` (the API server's words in the messages).
public struct InstallReport: Equatable, Sendable {
    public var components: [ComponentStatus]
    public var conditions: [Condition]
}

extension ComponentInstaller {
    public func report(for workspace: DesiredWorkspace, now: Date) -> InstallReport {
        let record = inventory.load(workspace.name)
        let previous = reported[workspace.name] ?? [:]
        let components = workspace.components.map { ref in
            var status = Self.status(ref, progress: progress[workspace.name]?[ref.name], appliedHash: record.components[ref.name]?.appliedHash)
            // Transition times carry over while a condition's status stays the same.
            var conditions = previous[ref.name] ?? []
            Self.conditions([ref], [status], now: now).forEach { conditions.set($0) }
            status.conditions = conditions
            return status
        }
        reported[workspace.name] = Dictionary(uniqueKeysWithValues: components.map { ($0.name, $0.conditions ?? []) })
        return InstallReport(components: components, conditions: Self.conditions(workspace.components, components, now: now))
    }

    static func status(_ ref: ComponentRef, progress: ComponentProgress?, appliedHash: String?) -> ComponentStatus {
        guard let progress, progress.ref.hash == ref.hash else {
            return ComponentStatus(name: ref.name, state: "Pending", message: "waiting for the install pass", appliedHash: appliedHash)
        }
        if let error = progress.fetchError {
            return ComponentStatus(name: ref.name, state: "Failed", message: error, appliedHash: appliedHash)
        }
        guard let plan = progress.plan else {
            return ComponentStatus(name: ref.name, state: "Pending", message: "waiting for the install pass", appliedHash: appliedHash)
        }
        if !plan.isApplicable {
            let problems = plan.refusals.merging(plan.unserved) { first, _ in first }
            var objects = problems.keys.sorted { $0.description < $1.description }.map { key in
                ObjectStatus(
                    apiVersion: key.apiVersion, kind: key.kind, name: key.name,
                    state: plan.refusals[key] != nil ? "Refused" : "Failed", message: problems[key])
            }
            objects += plan.items.map {
                ObjectStatus(
                    apiVersion: $0.key.apiVersion, kind: $0.key.kind, name: $0.key.name, state: "Pending",
                    message: "not applied: the component is not applicable as a whole")
            }
            let state = plan.refusals.isEmpty ? "Failed" : "Refused"
            let message = "nothing applied: " + problems.values.sorted().prefix(3).joined(separator: "; ")
            return ComponentStatus(name: ref.name, state: state, message: message, appliedHash: appliedHash, objects: objects)
        }
        let objects = plan.items.map { item in
            let object = progress.objects[item.key]
            return ObjectStatus(
                apiVersion: item.key.apiVersion, kind: item.key.kind, name: item.key.name,
                state: object?.state.rawValue ?? "Pending", message: object?.message)
        }
        let states = Set(objects.map(\.state))
        let state: String
        if states.contains("Refused") {
            state = "Refused"
        } else if plan.items.contains(where: { progress.objects[$0.key]?.state == .failed && progress.objects[$0.key]?.isApplied == false }) {
            state = "Failed"
        } else if states.contains("Failed") {
            state = "Degraded"
        } else if appliedHash != ref.hash {
            state = "Applying"
        } else if states.contains("Progressing") || states.contains("Pending") {
            state = "Progressing"
        } else {
            state = "Ready"
        }
        let firstProblem = objects.first { $0.state != "Ready" }.map { "\($0.kind)/\($0.name): \($0.message ?? $0.state)" }
        return ComponentStatus(name: ref.name, state: state, message: firstProblem, appliedHash: appliedHash, objects: objects)
    }

    static func conditions(_ refs: [ComponentRef], _ components: [ComponentStatus], now: Date) -> [Condition] {
        func summary(_ list: [ComponentStatus]) -> String {
            let shown = list.prefix(3).map { "component \"\($0.name)\" \($0.state): \($0.message ?? "")" }
            return shown.joined(separator: "; ") + (list.count > 3 ? "; and \(list.count - 3) more" : "")
        }
        let objectCount = refs.reduce(0) { $0 + $1.objects }
        let unapplied = zip(refs, components).filter { $0.0.hash != $0.1.appliedHash }.map(\.1)
        let applied: Condition
        if unapplied.isEmpty {
            applied = Condition(
                type: "Applied", status: .true, reason: "Applied",
                message: "\(refs.count) component(s), \(objectCount) object(s) applied", lastTransitionTime: now)
        } else {
            let reason = unapplied.contains { $0.state == "Refused" } ? "Refused" : unapplied.contains { $0.state == "Failed" } ? "ApplyFailed" : "Applying"
            applied = Condition(type: "Applied", status: .false, reason: reason, message: summary(unapplied), lastTransitionTime: now)
        }
        let notReady = components.filter { $0.state != "Ready" }
        let ready =
            notReady.isEmpty
            ? Condition(type: "Ready", status: .true, reason: "AllReady", message: "\(components.count) component(s) ready", lastTransitionTime: now)
            : Condition(type: "Ready", status: .false, reason: "ComponentsNotReady", message: summary(notReady), lastTransitionTime: now)
        let broken = components.filter { ["Degraded", "Failed", "Refused"].contains($0.state) }
        let degraded =
            broken.isEmpty
            ? Condition(type: "Degraded", status: .false, reason: "AsExpected", message: "no component is failing", lastTransitionTime: now)
            : Condition(type: "Degraded", status: .true, reason: broken[0].state, message: summary(broken), lastTransitionTime: now)
        return [applied, ready, degraded]
    }
}
