import Foundation
import SplitPlaneProtocol

/// Health of a live object from its own status, judged as `kubectl rollout status` and Helm's
/// `--wait` do. Kinds without a rollout are ready once they exist.
public enum ObjectHealth {
    public enum State: String, Sendable { case ready = "Ready", progressing = "Progressing", failed = "Failed" }

    public struct Verdict: Equatable, Sendable {
        public var state: State
        public var message: String?
    }

    public static func judge(_ live: JSONValue) -> Verdict {
        let generation = live["metadata"]?["generation"]?.intValue ?? 0
        let observed = live["status"]?["observedGeneration"]?.intValue ?? 0
        switch live["kind"]?.stringValue {
        case "Deployment": return deployment(live, fresh: observed >= generation)
        case "StatefulSet": return statefulSet(live, fresh: observed >= generation)
        case "DaemonSet": return daemonSet(live, fresh: observed >= generation)
        case "Job": return job(live)
        case "PersistentVolumeClaim": return claim(live)
        case "Pod": return pod(live)
        default: return Verdict(state: .ready)
        }
    }

    static func condition(_ live: JSONValue, _ type: String) -> JSONValue? {
        live["status"]?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    static func deployment(_ live: JSONValue, fresh: Bool) -> Verdict {
        if let progressing = condition(live, "Progressing"), progressing["reason"]?.stringValue == "ProgressDeadlineExceeded" {
            return Verdict(state: .failed, message: progressing["message"]?.stringValue ?? "ProgressDeadlineExceeded")
        }
        guard fresh else { return Verdict(state: .progressing, message: "waiting for the deployment spec update to be observed") }
        let status = live["status"]
        let wanted = live["spec"]?["replicas"]?.intValue ?? 1
        let updated = status?["updatedReplicas"]?.intValue ?? 0
        let total = status?["replicas"]?.intValue ?? 0
        let available = status?["availableReplicas"]?.intValue ?? 0
        if updated < wanted {
            return Verdict(state: .progressing, message: "\(updated) of \(wanted) updated replicas")
        }
        if total > updated {
            return Verdict(state: .progressing, message: "\(total - updated) old replicas are pending termination")
        }
        if available < updated {
            var message = "\(available) of \(updated) updated replicas are available"
            if let replicaFailure = condition(live, "ReplicaFailure"), replicaFailure["status"]?.stringValue == "True" {
                message += ": " + (replicaFailure["message"]?.stringValue ?? "ReplicaFailure")
            }
            return Verdict(state: .progressing, message: message)
        }
        return Verdict(state: .ready)
    }

    static func statefulSet(_ live: JSONValue, fresh: Bool) -> Verdict {
        guard fresh else { return Verdict(state: .progressing, message: "waiting for the statefulset spec update to be observed") }
        let status = live["status"]
        let wanted = live["spec"]?["replicas"]?.intValue ?? 1
        let ready = status?["readyReplicas"]?.intValue ?? 0
        if ready < wanted { return Verdict(state: .progressing, message: "\(ready) of \(wanted) replicas ready") }
        let rolling = live["spec"]?["updateStrategy"]?["type"]?.stringValue ?? "RollingUpdate"
        if rolling == "RollingUpdate", let update = status?["updateRevision"]?.stringValue,
            let current = status?["currentRevision"]?.stringValue, update != current
        {
            let updated = status?["updatedReplicas"]?.intValue ?? 0
            return Verdict(state: .progressing, message: "\(updated) of \(wanted) replicas updated to revision \(update)")
        }
        return Verdict(state: .ready)
    }

    static func daemonSet(_ live: JSONValue, fresh: Bool) -> Verdict {
        guard fresh else { return Verdict(state: .progressing, message: "waiting for the daemonset spec update to be observed") }
        let status = live["status"]
        let desired = status?["desiredNumberScheduled"]?.intValue ?? 0
        let updated = status?["updatedNumberScheduled"]?.intValue ?? 0
        let available = status?["numberAvailable"]?.intValue ?? 0
        if updated < desired { return Verdict(state: .progressing, message: "\(updated) of \(desired) updated pods scheduled") }
        if available < desired { return Verdict(state: .progressing, message: "\(available) of \(desired) updated pods available") }
        return Verdict(state: .ready)
    }

    static func job(_ live: JSONValue) -> Verdict {
        if let failed = condition(live, "Failed"), failed["status"]?.stringValue == "True" {
            let reason = failed["reason"]?.stringValue ?? "Failed"
            return Verdict(state: .failed, message: failed["message"]?.stringValue.map { "\(reason): \($0)" } ?? reason)
        }
        if let complete = condition(live, "Complete"), complete["status"]?.stringValue == "True" { return Verdict(state: .ready) }
        let active = live["status"]?["active"]?.intValue ?? 0
        return Verdict(state: .progressing, message: "job not complete (\(active) active)")
    }

    static func claim(_ live: JSONValue) -> Verdict {
        switch live["status"]?["phase"]?.stringValue {
        case "Bound": return Verdict(state: .ready)
        case "Lost": return Verdict(state: .failed, message: "claim lost its volume")
        case let phase: return Verdict(state: .progressing, message: "claim is \(phase ?? "Pending"), not Bound")
        }
    }

    /// Container waiting reasons that do not clear up by waiting.
    static let stuckReasons: Set<String> = [
        "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName",
        "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
    ]

    /// The first reason a pod is stuck: a container waiting in one of `stuckReasons` (with its last
    /// exit, or the kubelet's message), or the scheduler's refusal. Nil for a pod merely starting.
    public static func podTrouble(_ pod: JSONValue) -> String? {
        let name = pod["metadata"]?["name"]?.stringValue ?? "pod"
        let statuses = (pod["status"]?["initContainerStatuses"]?.arrayValue ?? []) + (pod["status"]?["containerStatuses"]?.arrayValue ?? [])
        for status in statuses {
            guard let waiting = status["state"]?["waiting"], let reason = waiting["reason"]?.stringValue, stuckReasons.contains(reason) else { continue }
            var text = "pod \(name) container \(status["name"]?.stringValue ?? "?"): \(reason)"
            if let last = status["lastState"]?["terminated"], let lastReason = last["reason"]?.stringValue {
                text += " (last exit: \(lastReason)\(last["exitCode"]?.intValue.map { ", code \($0)" } ?? ""))"
            } else if let message = waiting["message"]?.stringValue {
                text += " (\(message.prefix(200)))"
            }
            return text
        }
        if let scheduled = condition(pod, "PodScheduled"), scheduled["status"]?.stringValue == "False" {
            return "pod \(name) cannot be scheduled: \(scheduled["message"]?.stringValue ?? scheduled["reason"]?.stringValue ?? "Unschedulable")"
        }
        return nil
    }

    static func pod(_ live: JSONValue) -> Verdict {
        switch live["status"]?["phase"]?.stringValue {
        case "Succeeded": return Verdict(state: .ready)
        case "Failed": return Verdict(state: .failed, message: live["status"]?["message"]?.stringValue ?? "pod failed")
        case "Running" where condition(live, "Ready")?["status"]?.stringValue == "True": return Verdict(state: .ready)
        case let phase: return Verdict(state: .progressing, message: "pod is \(phase ?? "Pending"), not ready")
        }
    }
}
