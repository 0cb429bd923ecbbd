import Agent
import Controller
import Foundation
import KubernetesAPI
import Logging
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// The observability stack the controller generates, applied by the agent's installer to the
/// Kubernetes test server (server-side apply) with the rights of the agent chart's Role, and the
/// customer's support-access switch enforced by the agent on every pass.
@Suite struct ObservabilityStackInstallTests {
    static let workspaceName = EnvironmentRequest.observabilityWorkspace

    /// The rules of `charts/qbeast-agent/templates/role.yaml`: the stack must fit inside them.
    static let agentChartRules: [JSONValue] = [
        ["apiGroups": [""], "resources": ["configmaps", "secrets", "services", "serviceaccounts", "persistentvolumeclaims"], "verbs": allVerbs],
        ["apiGroups": [""], "resources": ["pods", "pods/log", "endpoints", "events"], "verbs": ["get", "list", "watch"]],
        ["apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets", "replicasets"], "verbs": allVerbs],
        ["apiGroups": ["networking.k8s.io"], "resources": ["ingresses", "networkpolicies"], "verbs": allVerbs],
        ["apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]],
        ["apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": allVerbs],
        ["apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]],
    ]
    static let allVerbs: JSONValue = ["get", "list", "watch", "create", "update", "patch", "delete"]

    static func stack(request: SupportAccessRequest? = nil) -> [JSONValue] {
        ObservabilityStack(
            source: ObservabilityStackSource(spec: ObservabilitySpec(enabled: true), supportAccessRequest: request),
            namespace: InstallHarness.namespace, dashboards: ["qbeast-agent.json": "{}"]
        ).manifests()
    }

    static func harness(grant: SupportAccessGrant) async throws -> InstallHarness {
        var harness = try await InstallHarness.start()
        harness.server.setRules(agentChartRules)
        var logger = Logger(label: "install-test")
        logger.logLevel = .critical
        harness.installer = try ComponentInstaller(
            client: harness.client, source: harness.source, stateDirectory: URL(fileURLWithPath: harness.directory.path("agent")),
            supportAccess: grant, clock: harness.clock, logger: logger)
        // The agent's one Event writer, as `AgentService` wires it.
        let recorder = EventRecorder(
            client: harness.client, namespace: InstallHarness.namespace, reportingInstance: "qbeast-agent", clock: harness.clock, logger: logger)
        await harness.installer.onEvent { event in
            await recorder.record(event.kubernetesEvent(agent: .init(apiVersion: "v1", kind: "Pod", name: "qbeast-agent")))
        }
        return harness
    }

    func proxyPresent(_ harness: InstallHarness) -> (deployment: Bool, service: Bool) {
        (
            harness.deployment(ObservabilityStack.Names.supportProxy) != nil,
            harness.server.object(apiVersion: "v1", kind: "Service", namespace: InstallHarness.namespace, name: ObservabilityStack.Names.supportProxy) != nil
        )
    }

    @Test func theStackAppliesCleanlyInsideTheNamespaceAndTheProxyIsAbsentByDefault() async throws {
        let harness = try await Self.harness(grant: .off)
        defer { Task { try? await harness.stop() } }
        let workspace = try harness.workspace(name: Self.workspaceName, ["observability": Self.stack()])
        await harness.installer.reconcile([workspace])
        let report = await harness.report(workspace)
        let component = try #require(report.components.first)
        #expect(!["Refused", "Failed"].contains(component.state), "\(component.message ?? "")")
        #expect(component.objects?.allSatisfy { $0.state != "Refused" && $0.state != "Failed" } == true)
        for (apiVersion, kind, name) in [
            ("apps/v1", "StatefulSet", "qbeast-victoria-metrics"), ("apps/v1", "StatefulSet", "qbeast-victoria-logs"),
            ("apps/v1", "Deployment", "qbeast-grafana"), ("rbac.authorization.k8s.io/v1", "Role", "qbeast-victoria-metrics-discovery"),
            ("rbac.authorization.k8s.io/v1", "RoleBinding", "qbeast-victoria-metrics-discovery"),
            ("networking.k8s.io/v1", "NetworkPolicy", "qbeast-observability-same-namespace"),
            ("v1", "ConfigMap", "qbeast-grafana-dashboards"),
        ] {
            #expect(harness.server.object(apiVersion: apiVersion, kind: kind, namespace: InstallHarness.namespace, name: name) != nil, "\(kind)/\(name)")
        }
        // Server-side apply by the agent's field manager.
        #expect(harness.applies.contains { $0.path.contains("statefulsets/qbeast-victoria-metrics") && $0.query["fieldManager"] == "qbeast-agent" })
        #expect(proxyPresent(harness) == (false, false))
        let status = await harness.installer.supportAccessStatus()
        #expect(status.state == .off)
        #expect(status.proxyPresent == false)
    }

    @Test func aGrantInstallsTheProxyAndItsEndRemovesItWithoutTheController() async throws {
        let until = ManualTimeSource().now().addingTimeInterval(3600)  // the manual clock's start, plus an hour
        let harness = try await Self.harness(grant: SupportAccessGrant(enabled: true, until: until))
        defer { Task { try? await harness.stop() } }
        #expect(harness.clock.now() < until)
        let workspace = try harness.workspace(name: Self.workspaceName, ["observability": Self.stack()])
        await harness.installer.reconcile([workspace])
        #expect(proxyPresent(harness) == (true, true))
        var status = await harness.installer.supportAccessStatus()
        #expect(status.state == .granted)
        #expect(status.until == until)
        #expect(status.proxyPresent)
        // The install loop wakes at the grant's end even when nothing else is due.
        #expect(try #require(await harness.installer.nextDue()) <= until)

        // The end passes: only the installer and the Kubernetes API are involved, no controller.
        harness.clock.advance(by: .seconds(3601))
        await harness.installer.reconcile([workspace])
        #expect(proxyPresent(harness) == (false, false))
        status = await harness.installer.supportAccessStatus()
        #expect(status.state == .expired)
        #expect(status.proxyPresent == false)
        // The rest of the stack stays.
        #expect(harness.deployment(ObservabilityStack.Names.grafana) != nil)
        let reasons = harness.server.objects(apiVersion: "events.k8s.io/v1", kind: "Event", namespace: InstallHarness.namespace)
            .compactMap { $0["reason"]?.stringValue }
        #expect(reasons.contains("SupportAccessGranted"))
        #expect(reasons.contains("SupportAccessExpired"))
    }

    @Test func aProxyCreatedWhileAccessIsClosedIsRemovedOnTheNextPass() async throws {
        let harness = try await Self.harness(grant: .off)
        defer { Task { try? await harness.stop() } }
        let workspace = try harness.workspace(name: Self.workspaceName, ["observability": Self.stack()])
        await harness.installer.reconcile([workspace])
        // Someone (a stale process, a hand-applied copy) puts the proxy back with the agent's labels.
        var proxy = try #require(Self.stack().first { $0["kind"] == "Deployment" && $0["metadata"]?["name"] == "qbeast-support-proxy" })
        proxy.set(["metadata", "labels", OwnershipLabels.managedBy], to: .string(OwnershipLabels.managedByValue))
        proxy.set(["metadata", "namespace"], to: .string(InstallHarness.namespace))
        _ = try await harness.client.apply(
            proxy, at: "/apis/apps/v1/namespaces/\(InstallHarness.namespace)/deployments/qbeast-support-proxy", fieldManager: "someone", force: true)
        #expect(proxyPresent(harness).deployment)
        await harness.installer.reconcile([workspace])
        #expect(proxyPresent(harness) == (false, false))
        let enforced = harness.server.objects(apiVersion: "events.k8s.io/v1", kind: "Event", namespace: InstallHarness.namespace)
            .filter { $0["reason"] == "SupportAccessEnforced" }
        #expect(enforced.first?["note"]?.stringValue?.contains("Deployment/qbeast-support-proxy") == true)
    }

    @Test func aRequestIsShownToTheCustomerAsAnEventAndInTheStatusButGrantsNothing() async throws {
        let harness = try await Self.harness(grant: .off)
        defer { Task { try? await harness.stop() } }
        let request = SupportAccessRequest(
            reason: "optimisation jobs failing", requestedBy: "token:support", requestedAt: Date(timeIntervalSince1970: 1_800_000_000))
        let workspace = try harness.workspace(name: Self.workspaceName, ["observability": Self.stack(request: request)])
        await harness.installer.reconcile([workspace])
        await harness.installer.reconcile([workspace])
        let status = await harness.installer.supportAccessStatus()
        #expect(status.request == request)
        #expect(status.state == .off)
        #expect(proxyPresent(harness) == (false, false))
        let events = harness.server.objects(apiVersion: "events.k8s.io/v1", kind: "Event", namespace: InstallHarness.namespace)
            .filter { $0["reason"] == "SupportAccessRequested" }
        #expect(events.count == 1)
        #expect(events.first?["note"]?.stringValue?.contains("optimisation jobs failing") == true)
        #expect(events.first?["regarding"]?["name"] == "qbeast-support-access-request")
    }

    @Test func theSupportLabelOutsideTheStackIsRefusedAndReported() async throws {
        let harness = try await Self.harness(grant: SupportAccessGrant(enabled: true, until: Date.distantFuture))
        defer { Task { try? await harness.stop() } }
        var sneaky = Manifests.deployment("backdoor")
        sneaky.set(["metadata", "labels", SupportAccessLabels.gate], to: .string(SupportAccessLabels.gated))
        let workspace = try harness.workspace(name: "analytics", ["backend": [sneaky]])
        await harness.installer.reconcile([workspace])
        #expect(harness.deployment("backdoor") == nil)
        let report = await harness.report(workspace)
        #expect(report.components.first?.state == "Refused")
        let status = await harness.installer.supportAccessStatus()
        #expect(status.refused?.contains("only the environment's observability stack may carry") == true)
    }
}
