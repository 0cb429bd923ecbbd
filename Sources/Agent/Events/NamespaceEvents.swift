import Foundation
import KubernetesAPI
import Logging
import SplitPlaneProtocol

/// Writes `events.k8s.io/v1` Events in the agent's namespace, so the customer sees what the agent
/// wants them to see with `kubectl get events`. Best effort: a failure is logged, never fatal.
struct NamespaceEvents: Sendable {
    let client: KubernetesClient
    let logger: Logger

    var namespace: String { client.connection.namespace }

    /// One Event about `regarding` (apiVersion, kind, name of an object in the namespace).
    func record(
        reason: String, note: String, type: String = "Normal", regarding: (apiVersion: String, kind: String, name: String), at now: Date
    ) async {
        let name = "qbeast-agent.\(Int(now.timeIntervalSince1970 * 1000)).\(UInt32.random(in: 0...UInt32.max))"
        let event: JSONValue = [
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "eventTime": .string(Self.microTime(now)), "reportingController": "qbeast.io/agent", "reportingInstance": "qbeast-agent",
            "action": .string(reason), "reason": .string(reason), "type": .string(type), "note": .string(String(note.prefix(1024))),
            "regarding": [
                "apiVersion": .string(regarding.apiVersion), "kind": .string(regarding.kind), "name": .string(regarding.name),
                "namespace": .string(namespace),
            ],
        ]
        do {
            _ = try await client.post("/apis/events.k8s.io/v1/namespaces/\(namespace)/events", event)
        } catch {
            logger.warning("cannot record a Kubernetes event", metadata: ["reason": "\(reason)", "error": "\(error)"])
        }
    }

    /// Kubernetes' MicroTime: RFC 3339 with microseconds.
    static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let micros = Int((date.timeIntervalSince1970 - seconds) * 1_000_000)
        let base = Date(timeIntervalSince1970: seconds).formatted(Date.ISO8601FormatStyle())  // …T14:59:14Z
        return String(base.dropLast()) + "." + String(String(micros + 1_000_000).dropFirst()) + "Z"
    }
}
