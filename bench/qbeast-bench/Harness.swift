import Agent
import Foundation
import Logging
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting

enum RuleFileCheckerBridge {
    static func groups(_ yaml: String) throws -> [RuleGroup] { try RuleFileChecker.groups(fromYAML: yaml) }
}

/// Times whole evaluation rounds of the agent's engine (queries, state machine, templates, outbox
/// write, state persisted), stepped by hand so nothing but the round is measured.
enum RoundTimer {
    static func measure(group: RuleGroup, storeURL: String, outbox: AlertOutbox, stateDirectory: URL, rounds: Int) async throws -> [Double] {
        let engine = try RuleEngine(
            store: MetricsStoreClient(baseURL: storeURL), outbox: outbox, stateDirectory: stateDirectory,
            resendDelay: .seconds(60), defaultInterval: .seconds(20), clock: SystemTimeSource(),
            logger: Logger(label: "bench"), scheduled: false, boundary: .unrestricted, onHealthChange: {})
        await engine.update(
            DesiredState(
                tenant: "bench", environment: "bench", revision: 1,
                workspaces: [
                    DesiredWorkspace(name: "bench", generation: 1, ruleGroups: [group])
                ]))
        var times: [Double] = []
        // One warm-up round (connections, first allocations), as vmalert's first round is excluded too.
        for round in 0...rounds {
            let started = ContinuousClock.now
            await engine.evaluate(at: Date())
            let elapsed = ContinuousClock.now - started
            if round > 0 { times.append(elapsed.timeInterval) }
        }
        await engine.stop()
        return times
    }
}

/// The real `qbeast-agent` process, enrolled with a test certificate, fed one workspace by an
/// in-process controller, evaluating against the benchmark's VictoriaMetrics (and installing through
/// `extraArguments`' kubeconfig, when given).
struct MemoryRun {
    let agent: Process
    let controller: TestController
    let pki: TestPKI

    /// The rules of `yaml` as a workspace body.
    static func rulesWorkspace(_ yaml: String) throws -> Data {
        struct Apply: Encodable { var spec: WorkspaceSpec }
        return try JSONEncoder().encode(Apply(spec: WorkspaceSpec(ruleGroups: try RuleFileChecker.groups(fromYAML: yaml))))
    }

    static func start(
        name: String, workspace: Data, vmURL: String, work: TemporaryDirectory, binDirectory: String, extraArguments: [String] = []
    ) async throws -> MemoryRun {
        let pki = try TestPKI()
        let controller = try await TestController.start(pki: pki, databasePath: work.path("\(name)-controller.sqlite"))
        let api = try TestHTTPClient.operatorClient(controller, pki: pki)
        _ = try await api.request(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
        _ = try await api.request(.POST, "/v1/tenants/acme/environments", json: #"{"name":"prod","cloud":"aws","mode":"provided"}"#)
        let applied = try await api.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/bench", body: workspace)
        guard applied.status == 201 else { throw BenchFailure("cannot apply the \(name) workspace: \(applied.text)") }
        try await api.shutdown()
        let tls = pki.agentTLS("acme-prod")
        let agent = try startProcess(
            "\(binDirectory)/qbeast-agent",
            [
                "run", "--controller-url", controller.agentURL, "--tls-cert", tls.certificate, "--tls-key", tls.privateKey,
                "--ca-bundle", tls.trustBundle, "--state-dir", work.path("\(name)-agent-state"), "--metrics-listen", "127.0.0.1:\(try freeLoopbackPort())",
                "--metrics-store-url", vmURL, "--log-level", "warning",
            ] + extraArguments, log: work.path("\(name)-agent.log"))
        return MemoryRun(agent: agent, controller: controller, pki: pki)
    }

    func stop() async throws {
        agent.terminate()
        agent.waitUntilExit()
        try await controller.stop()
        pki.remove()
    }
}
