import Agent
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// The agent's installer against the test Kubernetes API server (a stand-in speaking the real wire
/// format; no real API server runs on these machines).
@Suite struct ComponentInstallerTests {
    @Test func installsFromScratchWithOwnershipLabelsAndReportsRollout() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        let workspace = try harness.workspace(["backend": [Manifests.configMap("settings"), Manifests.deployment("web"), Manifests.service("web")]])
        await harness.installer.reconcile([workspace])

        let deployment = try #require(harness.deployment("web"))
        let labels = deployment["metadata"]?["labels"]
        #expect(labels?["app.kubernetes.io/managed-by"] == "qbeast-agent")
        #expect(labels?["qbeast.io/workspace"] == "analytics")
        #expect(labels?["qbeast.io/component"] == "backend")
        #expect(deployment["metadata"]?["managedFields"]?[0]?["manager"] == "qbeast-agent")
        #expect(harness.configMap("settings") != nil)
        // Applied in dependency order, each with server-side apply as qbeast-agent.
        let applies = harness.applies
        #expect(applies.map { $0.path.split(separator: "/").dropLast().last.map(String.init) ?? "" } == ["configmaps", "services", "deployments"])
        #expect(applies.allSatisfy { $0.contentType == "application/apply-patch+yaml" && $0.query["fieldManager"] == "qbeast-agent" })

        var report = await harness.report(workspace)
        #expect(report.conditions[type: "Applied"]?.status == .true)
        #expect(report.conditions[type: "Ready"]?.status == .false)
        #expect(report.components[0].state == "Progressing")
        #expect(report.components[0].appliedHash == workspace.components[0].hash)
        #expect(report.components[0].objects?.first { $0.kind == "Deployment" }?.message == "waiting for the deployment spec update to be observed")

        harness.rollOut("web")
        await harness.installer.reconcile([workspace])
        report = await harness.report(workspace)
        #expect(report.components[0].state == "Ready")
        #expect(report.conditions[type: "Ready"]?.status == .true)
        #expect(report.conditions[type: "Degraded"]?.status == .false)
    }

    @Test func upgradeAppliesTheChangedValue() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        let first = try harness.workspace(["backend": [Manifests.deployment("web", image: "ghcr.io/qbeast/backend:1.0")]])
        await harness.installer.reconcile([first])
        harness.rollOut("web")
        let second = try harness.workspace(generation: 2, ["backend": [Manifests.deployment("web", image: "ghcr.io/qbeast/backend:1.1")]])
        await harness.installer.reconcile([second])

        let deployment = try #require(harness.deployment("web"))
        #expect(deployment.at("spec.template.spec.containers")?[0]?["image"] == "ghcr.io/qbeast/backend:1.1")
        #expect(deployment["metadata"]?["generation"] == 2)
        let report = await harness.report(second)
        #expect(report.components[0].appliedHash == second.components[0].hash)
        // The new generation is not observed yet: the rollout is in progress, not ready.
        #expect(report.components[0].state == "Progressing")
    }

    @Test func prunesWhatTheSpecNoLongerHasAndNothingElse() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        // Someone else's ConfigMap in the same namespace.
        _ = try await harness.client.post("/api/v1/namespaces/qbeast/configmaps", Manifests.configMap("customer-owned"))
        let first = try harness.workspace([
            "backend": [Manifests.configMap("settings"), Manifests.deployment("web")],
            "extras": [Manifests.configMap("extra")],
        ])
        await harness.installer.reconcile([first])
        #expect(harness.configMap("extra") != nil)

        let second = try harness.workspace(generation: 2, ["backend": [Manifests.deployment("web")]])
        await harness.installer.reconcile([second])
        #expect(harness.configMap("settings") == nil)
        #expect(harness.configMap("extra") == nil)
        #expect(harness.deployment("web") != nil)
        #expect(harness.configMap("customer-owned") != nil)
        // Deletes carry a uid precondition, so an object re-created by someone else is not deleted.
        let deletes = harness.server.requests.filter { $0.method == "DELETE" }
        #expect(deletes.count == 2)
        #expect(deletes.allSatisfy { $0.body?.contains("\"uid\"") == true })
    }

    @Test func uninstallsAWorkspaceThatIsNoLongerDesired() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        let workspace = try harness.workspace(["backend": [Manifests.configMap("settings"), Manifests.deployment("web")]])
        await harness.installer.reconcile([workspace])
        await harness.installer.reconcile([])
        #expect(harness.deployment("web") == nil)
        #expect(harness.configMap("settings") == nil)
    }

    @Test func driftIsRestored() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        let workspace = try harness.workspace(["backend": [Manifests.configMap("settings", ["mode": "prod"]), Manifests.deployment("web")]])
        await harness.installer.reconcile([workspace])

        // A spec edit out of band (generation moves) is undone on the next pass.
        harness.server.mutate(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web") { object in
            object.setImage("ghcr.io/someone/else:latest")
        }
        await harness.installer.reconcile([workspace])
        #expect(harness.deployment("web")?.at("spec.template.spec.containers")?[0]?["image"] == "ghcr.io/qbeast/backend:1.0")

        // A deleted object is re-created on the next pass.
        harness.server.remove(apiVersion: "v1", kind: "ConfigMap", namespace: "qbeast", name: "settings")
        await harness.installer.reconcile([workspace])
        #expect(harness.configMap("settings")?["data"]?["mode"] == "prod")

        // Data changed out of band (no generation) is restored at the drift interval, not before.
        harness.server.mutate(apiVersion: "v1", kind: "ConfigMap", namespace: "qbeast", name: "settings") { object in
            object = .object((object.objectDictionary).merging(["data": ["mode": "debug"]]) { _, new in new })
        }
        await harness.installer.reconcile([workspace])
        #expect(harness.configMap("settings")?["data"]?["mode"] == "debug")
        harness.clock.advance(by: .seconds(301))
        await harness.installer.reconcile([workspace])
        #expect(harness.configMap("settings")?["data"]?["mode"] == "prod")
    }

    @Test func stuckRolloutIsReportedWithItsMessage() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        let workspace = try harness.workspace(["backend": [Manifests.deployment("web")]])
        await harness.installer.reconcile([workspace])
        let message = "ReplicaSet \"web-5d9c7b\" has timed out progressing."
        harness.server.setStatus(
            apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web",
            status: [
                "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1,
                "conditions": [["type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": .string(message)]],
            ])
        await harness.installer.reconcile([workspace])
        let report = await harness.report(workspace)
        #expect(report.components[0].state == "Degraded")
        #expect(report.components[0].message == "Deployment/web: \(message)")
        #expect(report.components[0].conditions?[type: "Degraded"]?.status == .true)
        #expect(report.components[0].conditions?[type: "Applied"]?.status == .true)
        #expect(report.conditions[type: "Degraded"]?.status == .true)
        #expect(report.conditions[type: "Degraded"]?.message.contains(message) == true)
        #expect(report.conditions[type: "Applied"]?.status == .true)
    }

    @Test func podsThatCannotStartAreNamedInTheirWorkloadsStatus() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        let workspace = try harness.workspace(["backend": [Manifests.deployment("web", replicas: 2)]])
        await harness.installer.reconcile([workspace])
        // The pods a ReplicaSet would have made (the test server runs no controllers), with the
        // kubelet's status: one crash-looping after an OOM kill, one that cannot pull its image.
        let crashing: JSONValue = [
            "phase": "Running",
            "containerStatuses": [
                [
                    "name": "main", "ready": false, "restartCount": 5,
                    "state": ["waiting": ["reason": "CrashLoopBackOff", "message": "back-off 2m40s restarting failed container=main"]],
                    "lastState": ["terminated": ["reason": "OOMKilled", "exitCode": 137]],
                ]
            ],
        ]
        let pulling: JSONValue = [
            "phase": "Pending",
            "containerStatuses": [
                [
                    "name": "main", "ready": false, "restartCount": 0,
                    "state": ["waiting": ["reason": "ImagePullBackOff", "message": "Back-off pulling image \"ghcr.io/qbeast/backend:9.9\""]],
                ]
            ],
        ]
        for (name, app, status) in [("web-5d9c7b-a", "web", crashing), ("web-5d9c7b-b", "web", pulling), ("other-1", "other", crashing)] {
            let pod: JSONValue = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "labels": ["app": .string(app)]],
                "spec": ["containers": [["name": "main", "image": "ghcr.io/qbeast/backend:9.9"]]],
            ]
            _ = try await harness.client.post("/api/v1/namespaces/qbeast/pods", pod)
            harness.server.setStatus(apiVersion: "v1", kind: "Pod", namespace: "qbeast", name: name, status: status)
        }
        harness.server.setStatus(
            apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web",
            status: [
                "observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 0, "unavailableReplicas": 2,
            ])
        await harness.installer.reconcile([workspace])
        let message = try #require(await harness.report(workspace).components.first?.message)
        #expect(message.hasPrefix("Deployment/web: 0 of 2 updated replicas are available; "))
        #expect(message.contains("pod web-5d9c7b-a container main: CrashLoopBackOff (last exit: OOMKilled, code 137)"))
        #expect(message.contains("pod web-5d9c7b-b container main: ImagePullBackOff (Back-off pulling image \"ghcr.io/qbeast/backend:9.9\")"))
        #expect(!message.contains("other-1"), "only the workload's own pods")
    }

    @Test func forbiddenRequestIsReportedRetriedAndDoesNotBlockOtherComponents() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        let failure = KubernetesTestServer.InjectedFailure.forbidden(verb: "patch", resource: "deployments", namespace: "qbeast", name: "web")
        let id = harness.server.inject(failure: failure)
        let workspace = try harness.workspace(["backend": [Manifests.deployment("web")], "settings": [Manifests.configMap("settings")]])
        await harness.installer.reconcile([workspace])

        var report = await harness.report(workspace)
        let backend = try #require(report.components.first { $0.name == "backend" })
        #expect(backend.state == "Failed")
        #expect(backend.message?.contains("is forbidden: User") == true)
        #expect(report.components.first { $0.name == "settings" }?.state == "Ready")
        #expect(report.conditions[type: "Applied"]?.reason == "ApplyFailed")
        #expect(report.conditions[type: "Applied"]?.message.contains("cannot patch resource") == true)

        // Retried with backoff: not before it is due, then applied once the cause is gone.
        harness.server.resetRequestLog()
        await harness.installer.reconcile([workspace])
        #expect(harness.applies.isEmpty)
        harness.server.lift(id)
        harness.clock.advance(by: .seconds(6))
        await harness.installer.reconcile([workspace])
        #expect(harness.deployment("web") != nil)
        report = await harness.report(workspace)
        #expect(report.conditions[type: "Applied"]?.status == .true)
    }

    @Test func quotaRejectionCarriesTheAPIServersMessage() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        let quota = "exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=0, limited: requests.cpu=1"
        harness.server.inject(failure: .quotaExceeded(resource: "deployments", namespace: "qbeast", message: quota))
        let workspace = try harness.workspace(["backend": [Manifests.deployment("web")]])
        await harness.installer.reconcile([workspace])
        let report = await harness.report(workspace)
        let object = try #require(report.components[0].objects?.first)
        #expect(object.state == "Failed")
        #expect(object.message?.contains(quota) == true)
    }

    @Test func reconnectReappliesNothingUnchanged() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        let workspace = try harness.workspace([
            "backend": [Manifests.configMap("settings"), Manifests.deployment("web")], "extras": [Manifests.configMap("extra")],
        ])
        await harness.installer.reconcile([workspace])
        let fetched = harness.source.fetches
        #expect(fetched == 2)

        let restarted = try await harness.restarted()
        harness.server.resetRequestLog()
        await restarted.installer.reconcile([workspace])
        #expect(harness.applies.isEmpty)
        #expect(harness.source.fetches == fetched)  // served from the on-disk cache
        let report = await restarted.report(workspace)
        #expect(report.conditions[type: "Applied"]?.status == .true)

        // A change to one component applies that component only.
        let changed = try harness.workspace(
            generation: 2,
            [
                "backend": [Manifests.configMap("settings"), Manifests.deployment("web")],
                "extras": [Manifests.configMap("extra", ["mode": "test"])],
            ])
        harness.server.resetRequestLog()
        await restarted.installer.reconcile([changed])
        #expect(harness.applies.count == 1)
        #expect(harness.applies.first?.path.hasSuffix("/configmaps/extra") == true)
    }

    @Test func doesNotTakeOverObjectsItDidNotCreate() async throws {
        let harness = try await InstallHarness.start()
        defer { Task { try? await harness.stop() } }
        _ = try await harness.client.post("/api/v1/namespaces/qbeast/configmaps", Manifests.configMap("settings", ["owner": "customer"]))
        let workspace = try harness.workspace(["backend": [Manifests.configMap("settings")]])
        await harness.installer.reconcile([workspace])
        #expect(harness.configMap("settings")?["data"]?["owner"] == "customer")
        let report = await harness.report(workspace)
        #expect(report.components[0].state == "Refused")
        #expect(report.components[0].message?.contains("not managed by qbeast-agent") == true)
        // Removing it from the spec does not delete the customer's object either.
        await harness.installer.reconcile([try harness.workspace(generation: 2, ["backend": []])])
        #expect(harness.configMap("settings") != nil)
    }
}

extension JSONValue {
    var objectDictionary: [String: JSONValue] {
        if case .object(let object) = self { return object }
        return [:]
    }

    mutating func setImage(_ image: String) {
        guard var spec = self["spec"]?.objectDictionary, var template = spec["template"]?.objectDictionary,
            var podSpec = template["spec"]?.objectDictionary, var containers = podSpec["containers"]?.arrayValue,
            var first = containers.first?.objectDictionary
        else { return }
        first["image"] = .string(image)
        containers[0] = .object(first)
        podSpec["containers"] = .array(containers)
        template["spec"] = .object(podSpec)
        spec["template"] = .object(template)
        var object = objectDictionary
        object["spec"] = .object(spec)
        self = .object(object)
    }

    func at(_ path: String) -> JSONValue? {
        var current: JSONValue? = self
        for key in path.split(separator: ".") { current = current?[String(key)] }
        return current
    }
}
