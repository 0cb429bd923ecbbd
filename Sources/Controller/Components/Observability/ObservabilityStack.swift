import Foundation
import SplitPlaneProtocol

/// The environment's observability stack as Kubernetes objects, generated from typed Swift so it is
/// rendered and tested here: VictoriaMetrics, VictoriaLogs, Grafana, the OIDC proxy that is the only
/// way in for support (present only while the customer's grant is in force, which the agent decides),
/// and Qbeast's open request for access. Everything is namespaced; no object carries a secret value.
public struct ObservabilityStack: Sendable {
    public var source: ObservabilityStackSource
    public var namespace: String
    /// Dashboard file name → JSON text, provisioned into Grafana (`dashboards/` of the repository).
    public var dashboards: [String: String]

    public init(source: ObservabilityStackSource, namespace: String, dashboards: [String: String]) {
        self.source = source
        self.namespace = namespace
        self.dashboards = dashboards
    }

    var spec: ObservabilitySpec { source.spec }
    var login: ObservabilityLogin { source.spec.effectiveLogin }

    /// Every object, in a stable order (the content hash depends on it).
    public func manifests() -> [JSONValue] {
        var objects: [JSONValue] = [networkPolicy()]
        objects += victoriaMetrics()
        objects += victoriaLogs()
        objects += grafana()
        objects += supportProxy()
        if let request = source.supportAccessRequest { objects.append(supportAccessRequest(request)) }
        return objects
    }

    // MARK: Names and images

    /// Images come from Qbeast's copies on GHCR, so they go through the environment's registry like
    /// every other component; the Grafana image has the VictoriaLogs datasource plugin built in
    /// (`images/grafana/Dockerfile`), as Grafana cannot download plugins without egress.
    public enum Images {
        public static let victoriaMetrics = "ghcr.io/qbeast/observability/victoria-metrics:v1.106.1"
        public static let victoriaLogs = "ghcr.io/qbeast/observability/victoria-logs:v1.0.0-victorialogs"
        public static let grafana = "ghcr.io/qbeast/observability/grafana-victorialogs:11.3.1-vl0.11.1"
        public static let oauth2Proxy = "ghcr.io/qbeast/observability/oauth2-proxy:v7.7.1"
    }

    public enum Names {
        public static let victoriaMetrics = "qbeast-victoria-metrics"
        public static let victoriaLogs = "qbeast-victoria-logs"
        public static let grafana = "qbeast-grafana"
        public static let supportProxy = "qbeast-support-proxy"
        public static let supportAccessRequest = "qbeast-support-access-request"
        public static let scrapeConfig = "qbeast-victoria-metrics-scrape"
        public static let discovery = "qbeast-victoria-metrics-discovery"
    }

    public static let victoriaMetricsPort = 8428
    public static let victoriaLogsPort = 9428
    public static let grafanaPort = 3000
    public static let proxyPort = 4180

    /// The in-namespace address of VictoriaMetrics, which the agent's rules query when the stack is on.
    public static func victoriaMetricsURL(namespace: String) -> String {
        "http://\(Names.victoriaMetrics).\(namespace).svc:\(victoriaMetricsPort)"
    }

    // MARK: Shared pieces

    func metadata(_ name: String, app: String, extraLabels: [String: JSONValue] = [:]) -> JSONValue {
        var labels: [String: JSONValue] = ["app.kubernetes.io/name": .string(app), "app.kubernetes.io/part-of": "qbeast-observability"]
        labels.merge(extraLabels) { _, new in new }
        return ["name": .string(name), "namespace": .string(namespace), "labels": .object(labels)]
    }

    static func selector(_ app: String) -> JSONValue { ["app.kubernetes.io/name": .string(app)] }

    /// Non-root, no privilege escalation, every capability dropped, the runtime's default seccomp profile.
    static func containerSecurity(readOnlyRoot: Bool = true) -> JSONValue {
        [
            "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": .bool(readOnlyRoot), "runAsNonRoot": true,
            "capabilities": ["drop": ["ALL"]], "seccompProfile": ["type": "RuntimeDefault"],
        ]
    }

    static func podSecurity(user: Int) -> JSONValue {
        [
            "runAsNonRoot": true, "runAsUser": .number(Double(user)), "runAsGroup": .number(Double(user)),
            "fsGroup": .number(Double(user)), "seccompProfile": ["type": "RuntimeDefault"],
        ]
    }

    static func resources(cpu: String, memory: String, memoryLimit: String) -> JSONValue {
        ["requests": ["cpu": .string(cpu), "memory": .string(memory)], "limits": ["memory": .string(memoryLimit)]]
    }

    static func httpProbe(path: String, port: Int) -> JSONValue {
        ["httpGet": ["path": .string(path), "port": .number(Double(port))], "periodSeconds": 10, "timeoutSeconds": 5]
    }

    func service(_ name: String, app: String, port: Int, extraLabels: [String: JSONValue] = [:]) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service", "metadata": metadata(name, app: app, extraLabels: extraLabels),
            "spec": [
                "type": "ClusterIP", "selector": Self.selector(app),
                "ports": [["name": "http", "port": .number(Double(port)), "targetPort": .number(Double(port))]],
            ],
        ]
    }

    func volumeClaimTemplate(size: String) -> JSONValue {
        var claim: [String: JSONValue] = ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": .string(size)]]]
        if let storageClass = spec.storageClass { claim["storageClassName"] = .string(storageClass) }
        return ["metadata": ["name": "storage"], "spec": .object(claim)]
    }

    /// Only pods of this namespace reach the stack's servers; the support proxy alone also accepts
    /// connections from outside it (it exists only while the customer's grant is in force).
    func networkPolicy() -> JSONValue {
        [
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": metadata("qbeast-observability-same-namespace", app: "qbeast-observability"),
            "spec": [
                "podSelector": [
                    "matchExpressions": [
                        [
                            "key": "app.kubernetes.io/name", "operator": "In",
                            "values": [.string(Names.victoriaMetrics), .string(Names.victoriaLogs), .string(Names.grafana)],
                        ]
                    ]
                ],
                "policyTypes": ["Ingress"],
                "ingress": [["from": [["podSelector": [:]]]]],
            ],
        ]
    }

    func supportAccessRequest(_ request: SupportAccessRequest) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": metadata(
                Names.supportAccessRequest, app: "qbeast-support-access",
                extraLabels: [SupportAccessLabels.gate: .string(SupportAccessLabels.request)]),
            "data": [
                "reason": .string(request.reason), "requestedBy": .string(request.requestedBy),
                "requestedAt": .string(Timestamp.format(request.requestedAt)),
                "howToGrant": .string(
                    "helm upgrade <release> qbeast-agent --reuse-values --set supportAccess.enabled=true --set supportAccess.until=<RFC 3339 time>"),
            ],
        ]
    }
}
