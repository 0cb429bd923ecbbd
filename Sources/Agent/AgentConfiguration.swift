import Foundation
import KubernetesAPI
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS

/// What `qbeast-agent run` is told. The agent has no inbound API: it only dials the controller.
public struct AgentConfiguration: Sendable {
    /// Base URLs of the controller's agent gateway, e.g. `https://controller.qbeast.io:8444`: one, or
    /// one per replica. The agent talks to one at a time and moves to the next when it cannot reach it.
    public var controllerURLs: [String]
    /// The first of `controllerURLs` (the only one, for a single controller).
    public var controllerURL: String {
        get { controllerURLs.first ?? "" }
        set { if controllerURLs.isEmpty { controllerURLs = [newValue] } else { controllerURLs[0] = newValue } }
    }
    /// The agent's certificate, key (never sent anywhere) and the CA bundle it trusts the controller with.
    public var tls: TLSFiles
    /// Small directory of durable state (instance id, outbox, last desired state); a PVC in the chart.
    public var stateDirectory: String
    public var metricsListen = ListenAddress(host: "127.0.0.1", port: 9091)
    /// How long the controller may hold a desired-state long poll.
    public var pollTimeout: Duration = .seconds(30)
    /// Status is re-sent at least this often, so the controller can tell a silent agent from a healthy one.
    public var heartbeatInterval: Duration = .seconds(30)
    /// Outbox bound in batches; beyond it the oldest batches are dropped and the drop reported.
    public var outboxMaxBatches = 10_000
    public var retry = RetryPolicy()
    /// The environment's metrics store (Prometheus-compatible API, e.g. VictoriaMetrics). Without it,
    /// rules are validated but not evaluated, and the status says so.
    public var metricsStoreURL: String?
    /// Lookback of instant queries (VictoriaMetrics' `step`), as vmalert's `-datasource.queryStep`.
    public var metricsStoreStep: Duration = .seconds(300)
    /// Interval of rule groups that set none (Prometheus' `evaluation_interval` default).
    public var defaultEvaluationInterval: Duration = .seconds(60)
    /// Firing alerts are re-sent this often; resolved ones for 15 minutes (Prometheus' resend delay).
    public var ruleResendDelay: Duration = .seconds(60)
    /// The Kubernetes API the workspace components are installed through (in-cluster service account
    /// or a kubeconfig). Without it specs are received and validated but nothing is installed.
    public var kubernetes: KubernetesConnection?
    public var install = InstallSettings()
    /// The customer's support-access switch (chart values `supportAccess.enabled` and `.until`).
    public var supportAccess = SupportAccessGrant.off
    /// Install passes run on every desired-state change, when a retry or drift re-apply is due, and
    /// at least this often (health read back from the objects' status).
    public var installInterval: Duration = .seconds(30)
    public var version = AgentVersion.current
    /// Renew the certificate at two thirds of its lifetime (`POST /agent/v1/certificate`). Off only for
    /// certificates the controller cannot have issued (then its CA is not configured).
    public var renewCertificates = true
    /// The customer's ceiling on what alerts and status may carry out (their Helm values, `--boundary-file`).
    public var boundary = DataBoundary.default
    /// The customer's HTTPS proxy for traffic to the controller (`HTTPS_PROXY`, `NO_PROXY`); nil: direct.
    public var proxy: OutboundProxy?
    /// The object the agent's Kubernetes Events are about: its Deployment (`--deployment-name`, the chart
    /// sets it), else its own Pod (the pod's hostname).
    public var eventsRegarding = KubernetesEvent.Regarding(
        apiVersion: "v1", kind: "Pod", name: ProcessInfo.processInfo.environment["HOSTNAME"] ?? "qbeast-agent")
    /// How every message sent upstream is recorded in the state directory's `egress/`.
    public var egressJournal = EgressJournalSettings()

    public init(controllerURL: String, tls: TLSFiles, stateDirectory: String) {
        self.init(controllerURLs: [controllerURL], tls: tls, stateDirectory: stateDirectory)
    }

    public init(controllerURLs: [String], tls: TLSFiles, stateDirectory: String) {
        self.controllerURLs = controllerURLs
        self.tls = tls
        self.stateDirectory = stateDirectory
    }
}

public enum AgentVersion {
    public static var current: String { BuildVersion.current }
}

/// Exponential backoff with jitter for every retry the agent makes against the controller.
public struct RetryPolicy: Sendable {
    public var initial: Duration = .milliseconds(500)
    public var maximum: Duration = .seconds(60)

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(60)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// Delay before retry number `attempt` (0-based): half fixed, half random ("equal jitter"), so
    /// many agents restarting together do not retry in lockstep, yet none retries immediately.
    public func delay(attempt: Int, random: Double = Double.random(in: 0..<1)) -> Duration {
        let base = initial * Int(1 << min(attempt, 20))
        let capped = min(base, maximum)
        return capped / 2 + capped / 2 * random
    }
}
