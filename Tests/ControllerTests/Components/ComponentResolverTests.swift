import Controller
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Resolution without a server: manifests as given, charts through (a stand-in for) `helm template`,
/// namespace checks, image rewriting, content hashes.
@Suite struct ComponentResolverTests {
    static let registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr"
    static let chart = ChartReference(repository: "oci://ghcr.io/qbeast/charts", chart: "qbeast-backend", version: "1.4.2", values: ["replicas": 2])

    @Test func manifestsAreTakenAsGivenWithImagesRewritten() async throws {
        let resolver = ComponentResolver(helm: HelmRenderer(binary: nil))
        let pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "mcp", "namespace": "team-a"],
            "spec": ["containers": [["name": "mcp", "image": "ghcr.io/qbeast/mcp:0.3.0"]]],
        ]
        let config: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "mcp"], "data": ["a": "b"]]
        let resolved = try await resolver.resolve(
            ComponentSpec(name: "mcp", manifests: [pod, config]),
            for: EnvironmentSettings(namespace: "team-a", registry: Self.registry))
        let expectedPod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "mcp", "namespace": "team-a"],
            "spec": ["containers": [["name": "mcp", "image": "\(Self.registry)/qbeast/mcp:0.3.0"]]],
        ]
        #expect(resolved.manifests == [expectedPod, config])
        #expect(resolved.hash == (try ResolvedComponent(name: "mcp", manifests: [expectedPod, config])).hash)
        try resolved.verify()
        // Without a registry the images stay, and so the hash differs.
        let plain = try await resolver.resolve(ComponentSpec(name: "mcp", manifests: [pod, config]), for: EnvironmentSettings(namespace: "team-a"))
        #expect(plain.manifests == [pod, config])
        #expect(plain.hash != resolved.hash)
    }

    @Test func manifestsMustNameThemselvesAndStayInTheAgentsNamespace() async throws {
        let resolver = ComponentResolver(helm: HelmRenderer(binary: nil))
        let settings = EnvironmentSettings(namespace: "qbeast")
        let cases: [(JSONValue, String)] = [
            (
                ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "x", "namespace": "kube-system"]],
                #"component "c": manifests[0] (ConfigMap "x") is in namespace "kube-system"; the agent installs only into its own namespace "qbeast""#
            ),
            (["apiVersion": "v1", "kind": "ConfigMap"], #"component "c": manifests[0] (ConfigMap) has no `metadata.name`"#),
            (
                ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["generateName": "x-"]],
                #"component "c": manifests[0] (ConfigMap) has no `metadata.name`"#
            ),
        ]
        for (manifest, detail) in cases {
            await #expect {
                try await resolver.resolve(ComponentSpec(name: "c", manifests: [manifest]), for: settings)
            } throws: { error in
                (error as? ComponentResolutionError)?.description == detail
            }
        }
    }

    @Test func chartsAreRenderedByHelmTemplateAndSplitIntoObjects() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let helm = try FakeHelm.renderer(
            in: directory,
            expectedArguments: "template backend oci://ghcr.io/qbeast/charts/qbeast-backend --version 1.4.2 --namespace team-a",
            expectedValues: #"{"replicas":2}"#)
        let resolver = ComponentResolver(helm: HelmRenderer(binary: helm))
        let resolved = try await resolver.resolve(
            ComponentSpec(name: "backend", chart: Self.chart),
            for: EnvironmentSettings(namespace: "team-a", registry: Self.registry))
        #expect(resolved.manifests.count == 2, "comment-only, empty and null documents are skipped")
        guard case .object(let deployment) = resolved.manifests[1] else { Issue.record("not an object"); return }
        #expect(deployment["kind"] == "Deployment")
        #expect(deployment["spec"].flatMap { if case .object(let spec) = $0 { spec["replicas"] } else { nil } } == .number(2), "ints stay numbers")
        let text = String(decoding: try StrictJSON.encode(resolved.manifests[1]), as: UTF8.self)
        #expect(text.contains(#""image":"\#(Self.registry)/qbeast/backend:1.4.2""#))
        #expect(text.contains(#""image":"\#(Self.registry)/qbeast/backend-migrate:1.4.2""#))
        #expect(text.contains(#""image":"docker.io/library/nginx:1.27""#))
        #expect(text.contains(#""app.kubernetes.io/version":"1.4.2""#), "quoted scalars stay strings")
        #expect(text.contains(#""value":"false""#))
        try resolved.verify()

        // An https repository is named with --repo.
        let https = try FakeHelm.renderer(
            in: directory,
            expectedArguments: "template backend qbeast-backend --repo https://charts.qbeast.io --version 1.4.2 --namespace qbeast",
            expectedValues: "{}")
        let viaRepo = try await ComponentResolver(helm: HelmRenderer(binary: https)).resolve(
            ComponentSpec(name: "backend", chart: ChartReference(repository: "https://charts.qbeast.io", chart: "qbeast-backend", version: "1.4.2")),
            for: EnvironmentSettings())
        #expect(viaRepo.manifests.count == 2)
    }

    @Test func helmFailuresCarryHelmsMessage() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let resolver = ComponentResolver(helm: HelmRenderer(binary: try FakeHelm.failing(in: directory)))
        await #expect {
            try await resolver.resolve(ComponentSpec(name: "backend", chart: Self.chart), for: EnvironmentSettings())
        } throws: { error in
            (error as? ComponentResolutionError)?.description
                == #"component "backend": helm template failed (exit status 1): Error: chart "qbeast-backend" version "9.9.9" not found in oci://ghcr.io/qbeast/charts repository"#
        }
        let slow = try FakeHelm.script(in: directory, name: "fake-helm-slow", "#!/bin/sh\n# Stand-in for helm's CLI contract; not helm.\nexec sleep 30\n")
        let started = ContinuousClock.now
        await #expect {
            try await ComponentResolver(helm: HelmRenderer(binary: slow, timeout: .milliseconds(300))).resolve(
                ComponentSpec(name: "backend", chart: Self.chart), for: EnvironmentSettings())
        } throws: { error in
            (error as? ComponentResolutionError)?.reason.contains("did not finish within") == true
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        let chatty = try FakeHelm.script(
            in: directory, name: "fake-helm-chatty", "#!/bin/sh\n# Stand-in for helm's CLI contract; not helm.\nexec yes 'apiVersion: v1'\n")
        await #expect {
            try await ComponentResolver(helm: HelmRenderer(binary: chatty, outputLimit: 1 << 16)).resolve(
                ComponentSpec(name: "backend", chart: Self.chart), for: EnvironmentSettings())
        } throws: { error in
            (error as? ComponentResolutionError)?.reason == "helm template printed more than 65536 bytes"
        }
    }

    @Test func withoutHelmAChartIsRefusedWithAClearMessage() async throws {
        #expect(HelmRenderer.locate(configured: nil, path: "/nonexistent:") == nil)
        await #expect {
            try await ComponentResolver(helm: HelmRenderer(binary: nil)).resolve(ComponentSpec(name: "backend", chart: Self.chart), for: EnvironmentSettings())
        } throws: { error in
            (error as? ComponentResolutionError)?.description
                == "component \"backend\": rendering Helm charts needs the helm binary; none is configured (--helm-binary) or on PATH — use plain manifests or install helm"
        }
    }

    @Test func multiDocumentYAMLBecomesObjects() throws {
        let objects = try ManifestDocuments.objects(fromYAML: FakeHelm.rendering)
        #expect(objects.count == 2)
        #expect(throws: ManifestDocuments.Malformed.self) { try ManifestDocuments.objects(fromYAML: "- a\n- b\n") }
        #expect(throws: ManifestDocuments.Malformed.self) { try ManifestDocuments.objects(fromYAML: "kind: ConfigMap\nmetadata: {name: x}\n") }
        #expect(throws: ManifestDocuments.Malformed.self) { try ManifestDocuments.objects(fromYAML: "apiVersion: v1\nkind: [unclosed\n") }
        #expect(try ManifestDocuments.objects(fromYAML: "").isEmpty)
    }
}
