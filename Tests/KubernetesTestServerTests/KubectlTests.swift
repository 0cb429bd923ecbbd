import Foundation
import KubernetesTestServer
import SplitPlaneProtocol
import TestSupport
import Testing

/// The real kubectl (v1.32) against the test server: what it sends and how it reads the answers is
/// the fidelity check of the wire format.
@Suite struct KubectlTests {
    static let kubectl = "/usr/bin/kubectl"

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// A private kubeconfig, HOME and discovery cache per test.
    final class Kubectl {
        let directory: URL

        init(server: KubernetesTestServer, pki: TestPKI) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubectl-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let config = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: test
                  cluster:
                    server: \(server.url)
                    certificate-authority: \(pki.caBundle)
                    tls-server-name: localhost
                users:
                - name: test
                  user:
                    token: test-token
                contexts:
                - name: test
                  context:
                    cluster: test
                    user: test
                    namespace: qbeast
                current-context: test
                """
            try config.write(to: directory.appendingPathComponent("kubeconfig"), atomically: true, encoding: .utf8)
        }

        func write(_ name: String, _ text: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }

        func run(_ arguments: [String]) async throws -> Run {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: KubectlTests.kubectl)
            process.arguments =
                [
                    "--kubeconfig", directory.appendingPathComponent("kubeconfig").path,
                    "--cache-dir", directory.appendingPathComponent("cache").path,
                ] + arguments
            process.environment = ["HOME": directory.path, "PATH": "/usr/bin:/bin"]
            let out = directory.appendingPathComponent("stdout"), err = directory.appendingPathComponent("stderr")
            FileManager.default.createFile(atPath: out.path, contents: nil)
            FileManager.default.createFile(atPath: err.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            let status: Int32 = try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do { try process.run() } catch { continuation.resume(throwing: error) }
            }
            return Run(status: status, stdout: try String(contentsOf: out, encoding: .utf8), stderr: try String(contentsOf: err, encoding: .utf8))
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    static func manifest(image: String) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: qbeast
          labels:
            app: web
        spec:
          replicas: 2
          selector:
            matchLabels:
              app: web
          template:
            metadata:
              labels:
                app: web
            spec:
              containers:
              - name: web
                image: \(image)
                ports:
                - containerPort: 80
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          namespace: qbeast
        spec:
          selector:
            app: web
          ports:
          - port: 80
            targetPort: 80
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: web-settings
          namespace: qbeast
        data:
          mode: fast
        """
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: kubectl), "kubectl is not installed at /usr/bin/kubectl"))
    func kubectlAppliesGetsConflictsAndDeletes() async throws {
        // kubectl sends its token only over TLS.
        let pki = try TestPKI()
        let server = try await KubernetesTestServer.start(pki: pki)
        let kubectl = try Kubectl(server: server, pki: pki)
        defer {
            kubectl.remove()
            pki.remove()
            Task { try await server.stop() }
        }
        let first = try kubectl.write("v1.yaml", Self.manifest(image: "nginx:1.27"))
        let applied = try await kubectl.run(["apply", "--server-side", "-f", first])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("deployment.apps/web serverside-applied"))
        #expect(applied.stdout.contains("service/web serverside-applied"))
        #expect(applied.stdout.contains("configmap/web-settings serverside-applied"))
        for (apiVersion, kind, name) in [("apps/v1", "Deployment", "web"), ("v1", "Service", "web"), ("v1", "ConfigMap", "web-settings")] {
            let object = server.object(apiVersion: apiVersion, kind: kind, namespace: "qbeast", name: name)
            #expect(object != nil, "\(kind) \(name)")
            #expect(managers(object)["kubectl/Apply"] != nil, "\(kind) \(name)")
        }
        let paths = Set(server.requests.map { "\($0.method) \($0.path)" })
        print("kubectl requests:", paths.sorted())

        let got = try await kubectl.run(["get", "deployment", "web", "-n", "qbeast", "-o", "json"])
        #expect(got.status == 0, "\(got.stderr)")
        let parsed = try JSONDecoder().decode(JSONValue.self, from: Data(got.stdout.utf8))
        // kubectl hides managedFields unless asked (--show-managed-fields).
        let stored = try #require(server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web"))
        #expect(parsed == stored.setting(["metadata", "managedFields"], to: .null).removingNulls())
        let withFields = try await kubectl.run(["get", "deployment", "web", "-o", "json", "--show-managed-fields"])
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(withFields.stdout.utf8)) == stored)

        let table = try await kubectl.run(["get", "deployments", "-n", "qbeast"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("web"))

        let second = try kubectl.write("v2.yaml", Self.manifest(image: "nginx:1.28"))
        let updated = try await kubectl.run(["apply", "--server-side", "-f", second])
        #expect(updated.status == 0, "\(updated.stderr)")
        let deployment = server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web")
        #expect(deployment?[path: "metadata", "generation"] == 2)
        #expect(deployment?[path: "spec", "template", "spec", "containers"]?[0]?["image"] == "nginx:1.28")

        server.mutate(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web") { object in
            object = object.setting(["spec", "replicas"], to: 5)
        }
        let conflicted = try await kubectl.run(["apply", "--server-side", "-f", second])
        #expect(conflicted.status != 0)
        #expect(
            conflicted.stderr.contains(#"Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas"#),
            "\(conflicted.stderr)")
        let forced = try await kubectl.run(["apply", "--server-side", "--force-conflicts", "-f", second])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web")?[path: "spec", "replicas"] == 2)

        server.resetRequestLog()
        let deleted = try await kubectl.run(["delete", "deployment", "web", "-n", "qbeast"])
        print("kubectl delete requests:", server.requests.map { "\($0.method) \($0.path) \($0.query)" })
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(deleted.stdout.contains(#"deployment.apps "web" deleted"#))
        #expect(server.object(apiVersion: "apps/v1", kind: "Deployment", namespace: "qbeast", name: "web") == nil)
    }
}
