import Controller
import Foundation
import KubernetesAPI
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// A controller with `--crossplane-kubeconfig` pointing at a `KubernetesTestServer` that a
/// `CrossplaneStandIn` plays Crossplane on. The provisioner's own loop waits on a manual clock, so
/// the tests drive it pass by pass with `reconcileAll()`.
struct ManagedHarness {
    let fixture: ControllerFixture
    let kube: KubernetesTestServer
    let crossplane: CrossplaneStandIn
    let clock: ManualTimeSource
    var provisioner: ManagedEnvironmentProvisioner { fixture.controller.server.provisioner! }
    static let namespace = "qbeast-acme"
    static let awsAccess = #"{"region":"eu-west-1","aws":{"roleArn":"arn:aws:iam::444455556666:role/qbeast-acme-dev-access"}}"#

    static func run(
        store: TestStoreKind = .sqlite, kubeToken: String? = "test-token", _ body: (ManagedHarness) async throws -> Void
    ) async throws {
        let kube = await KubernetesTestServer.start()
        let crossplane = try CrossplaneStandIn(server: kube)
        let clock = ManualTimeSource(now: Date())
        do {
            try await withController(
                store: store, seed: .acmeProd, clock: clock,
                configure: { configuration in
                    configuration.crossplane = CrossplaneSettings(
                        connection: KubernetesConnection(server: kube.url, namespace: "default", credential: kubeToken.map { .token($0) } ?? .none),
                        agent: ManagedAgentSettings(
                            chartRepository: "oci://ghcr.io/qbeast/charts", chartVersion: "0.1.0", controllerURL: "https://agents.qbeast.test:8444",
                            enrollURL: "https://agents.qbeast.test:8445", caBundle: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                            trustDomain: "qbeast.test"))
                }
            ) { fixture in
                try await fixture.mustSucceed(.POST, "/v1/tenants/acme/environments", json: #"{"name":"dev","cloud":"aws","mode":"managed"}"#)
                try await body(ManagedHarness(fixture: fixture, kube: kube, crossplane: crossplane, clock: clock))
            }
        } catch {
            try? await crossplane.shutdown()
            try? await kube.stop()
            throw error
        }
        try await crossplane.shutdown()
        try await kube.stop()
    }

    func environment(_ name: String = "dev") async throws -> Environment {
        try await fixture.operatorClient.request(.GET, "/v1/tenants/acme/environments/\(name)").decode(Environment.self)
    }

    func provisioned(_ name: String = "dev") async throws -> Condition? {
        try await environment(name).conditions?[type: "Provisioned"]
    }

    func xr(_ name: String = "dev") -> JSONValue? { crossplane.xr(namespace: Self.namespace, name: name) }

    func audit(_ action: String) async throws -> [AuditRecord] {
        try await fixture.operatorClient.request(.GET, "/v1/audit?limit=500").decode(ListResponse<AuditRecord>.self).items.filter {
            $0.action == action
        }
    }

    /// `qbctl <arguments>` of this build against the fixture's controller: exit code and standard output.
    func qbctl(_ arguments: [String]) async throws -> (code: Int32, output: String) {
        let token = fixture.directory.path("qbctl-token")
        try TestController.adminToken.write(toFile: token, atomically: true, encoding: .utf8)
        let result = try await ChildProcess.run(
            try Self.qbctlBinary(),
            arguments + ["--server", fixture.controller.operatorURL, "--token-file", token, "--ca", fixture.pki.caBundle],
            environment: ["HOME": fixture.directory.path("home")])
        return (result.status, result.output)
    }

    /// The `qbctl` executable `swift build --build-tests` put next to the test bundle (or `QBCTL_BIN`).
    static func qbctlBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["QBCTL_BIN"] { return path }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("qbctl").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let built = package.appendingPathComponent(".build/debug/qbctl").path
        guard FileManager.default.isExecutableFile(atPath: built) else {
            throw MissingExecutable(description: "qbctl executable not found (swift build first; looked beside the tests and at \(built))")
        }
        return built
    }
}

struct MissingExecutable: Error, CustomStringConvertible {
    var description: String
}
