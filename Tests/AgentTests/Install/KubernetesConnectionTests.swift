import Foundation
import KubernetesAPI
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Agent

@Suite struct KubernetesConnectionTests {
    @Test func readsTheCurrentContextOfAKubeconfig() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try "-----BEGIN CERTIFICATE-----\n".write(toFile: directory.path("ca.crt"), atomically: true, encoding: .utf8)
        try """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: local
          cluster:
            server: https://127.0.0.1:6443/
            certificate-authority: ca.crt
        contexts:
        - name: dev
          context: {cluster: local, user: agent, namespace: qbeast-dev}
        users:
        - name: agent
          user: {token: abc}
        """.write(toFile: directory.path("kubeconfig"), atomically: true, encoding: .utf8)
        let connection = try KubernetesConnection.kubeconfig(path: directory.path("kubeconfig"))
        #expect(connection.server == "https://127.0.0.1:6443")
        #expect(connection.namespace == "qbeast-dev")
        #expect(connection.certificateAuthorityPEM == Array("-----BEGIN CERTIFICATE-----\n".utf8))
        guard case .token("abc") = connection.credential else { Issue.record("token not read"); return }
        #expect(throws: KubernetesConfigurationError.self) { try KubernetesConnection.kubeconfig(path: directory.path("kubeconfig"), context: "nope") }
    }

    @Test func inClusterConfigurationFromTheServiceAccount() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try "ca".write(toFile: directory.path("ca.crt"), atomically: true, encoding: .utf8)
        try "qbeast\n".write(toFile: directory.path("namespace"), atomically: true, encoding: .utf8)
        try "token-1".write(toFile: directory.path("token"), atomically: true, encoding: .utf8)
        let connection = try KubernetesConnection.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"],
            directory: directory.path(""))
        #expect(connection.server == "https://10.96.0.1:443")
        #expect(connection.namespace == "qbeast")
        guard case .tokenFile(let path) = connection.credential else { Issue.record("no token file"); return }
        #expect(path.hasSuffix("/token"))
        #expect(throws: KubernetesConfigurationError.self) { try KubernetesConnection.inCluster(environment: [:], directory: directory.path("")) }
    }

    @Test func rotatedTokenIsReadAgainOnUnauthorized() async throws {
        let server = await KubernetesTestServer.start(token: "token-1")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokenFile = directory.path("token")
        try "token-1".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let client = try KubernetesClient(connection: KubernetesConnection(server: server.url, namespace: "qbeast", credential: .tokenFile(tokenFile)))
        _ = try await client.get("/api/v1/namespaces/qbeast/configmaps")
        // The kubelet rotates the projected token; the server accepts only the new one.
        server.setToken("token-2")
        try "token-2".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        _ = try await client.get("/api/v1/namespaces/qbeast/configmaps")
        server.setToken("token-3")
        await #expect(throws: KubernetesAPIError.self) { try await client.get("/api/v1/namespaces/qbeast/configmaps") }
        try await client.shutdown()
        try await server.stop()
    }

    @Test func healthVerdicts() {
        let job: JSONValue = [
            "kind": "Job",
            "status": [
                "conditions": [
                    [
                        "type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                        "message": "Job has reached the specified backoff limit",
                    ]
                ]
            ],
        ]
        #expect(ObjectHealth.judge(job) == .init(state: .failed, message: "BackoffLimitExceeded: Job has reached the specified backoff limit"))
        #expect(ObjectHealth.judge(["kind": "PersistentVolumeClaim", "status": ["phase": "Bound"]]).state == .ready)
        #expect(ObjectHealth.judge(["kind": "PersistentVolumeClaim", "status": ["phase": "Pending"]]).message == "claim is Pending, not Bound")
        let statefulSet: JSONValue = [
            "kind": "StatefulSet", "metadata": ["generation": 2], "spec": ["replicas": 3],
            "status": ["observedGeneration": 2, "readyReplicas": 2],
        ]
        #expect(ObjectHealth.judge(statefulSet).message == "2 of 3 replicas ready")
        let daemonSet: JSONValue = [
            "kind": "DaemonSet", "metadata": ["generation": 1],
            "status": ["observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3],
        ]
        #expect(ObjectHealth.judge(daemonSet).state == .ready)
    }
}
