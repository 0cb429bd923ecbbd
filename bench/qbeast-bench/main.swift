import Agent
import Foundation
import Logging
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTesting

// Benchmarks against peers on the same machine. Not a test: prints figures.
//
//   1. Agent rule evaluation vs vmalert (Debian's 1.79.5), same VictoriaMetrics, data, rules and
//      group concurrency: time of one evaluation round, 1,000 rules over 10,000 series.
//   2. Resident memory after BENCH_MEMORY_SECONDS (default 300) evaluating 200 rules every 10 s:
//      the real `qbeast-agent` process against the real `vmalert` process.
//   3. Controller alert intake and routing vs Alertmanager 0.25 (AlertRoutingBench).
//   4. Agent converging 20 components × 10 objects on the test Kubernetes API server, beside
//      `kubectl apply --server-side` of the same objects (InstallBench).
//   5. Fleet load: the real controller process against FLEET_AGENTS (default 1000, comma-separated
//      for several runs) simulated agents with distinct certificates (FleetBench, qbeast-fleet-sim).
//
//   3b. Single-alert batches from 1,000 agents at once vs Alertmanager receiving single-alert posts
//       from as many senders (SingleAlertIntakeBench; part of `alerting`, or alone as `single`).
//
// BENCH_ONLY=rules,memory,alerting,single,install,fleet picks sections (default: all).

let environment = ProcessInfo.processInfo.environment

// `make demo` borrows this binary to run the Kubernetes test server (the stand-in for a customer's API
// server; none runs on these machines) until it is stopped: BENCH_SERVE_KUBERNETES=<file> writes its URL there.
if let urlFile = environment["BENCH_SERVE_KUBERNETES"] {
    let server = await KubernetesTestServer.start(token: "demo-token")
    try server.url.write(toFile: urlFile, atomically: true, encoding: .utf8)
    while true { try await Task.sleep(for: .seconds(3600)) }
}
let concurrency = Int(environment["BENCH_CONCURRENCY"] ?? "") ?? 4
let memorySeconds = Int(environment["BENCH_MEMORY_SECONDS"] ?? "") ?? 300
// Resolved against the working directory now: the bench starts processes with other working directories.
let binDirectory = URL(fileURLWithPath: environment["BENCH_BIN"] ?? ".build/release").standardizedFileURL.path
let logger = Logger(label: "bench")
let sections = Set((environment["BENCH_ONLY"] ?? "rules,memory,alerting,install,fleet").split(separator: ",").map(String.init))

func rulesYAML(count: Int, interval: String) -> String {
    var text = "groups:\n  - name: bench\n    interval: \(interval)\n    concurrency: \(concurrency)\n    rules:\n"
    for index in 0..<count {
        text += """
                  - alert: BenchRule\(index)
                    expr: bench_load{job="job-\(index % 100)"} > 0.9
                    labels:
                      severity: warning
                    annotations:
                      summary: '{{ $labels.instance }} load {{ $value | humanizePercentage }}'

            """
    }
    return text
}

/// 10,000 series (100 jobs × 100 instances), a sample every 15 s over the last 2 minutes; about a
/// tenth above the 0.9 threshold, so each rule returns ~10 alerts.
func seed(_ vm: TestVictoriaMetrics) async throws {
    let now = Int64(Date().timeIntervalSince1970) * 1000
    var lines: [String] = []
    lines.reserveCapacity(10_000 * 9)
    for job in 0..<100 {
        for instance in 0..<100 {
            let value = instance % 10 == 0 ? 0.95 : 0.5
            for step in 0...8 {
                lines.append(#"bench_load{job="job-\#(job)",instance="i-\#(job)-\#(instance)"} \#(value) \#(now - Int64(step) * 15_000)"#)
            }
        }
        if lines.count > 50_000 {
            try await vm.importPrometheus(lines)
            lines.removeAll(keepingCapacity: true)
        }
    }
    try await vm.importPrometheus(lines)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// A section that cannot finish ends the bench with one line (and the logs it names), not a crash.
func benchFailed(_ section: String, _ error: any Error) -> Never {
    FileHandle.standardError.write(Data("bench: \(section) failed: \(error)\n".utf8))
    exit(1)
}

/// vmalert's own measure of a group round: `vmalert_iteration_duration_seconds` (sum / count).
func vmalertIterationSeconds(metricsURL: String) async throws -> (Double, Int)? {
    let text = try await plainHTTP(.GET, metricsURL).text
    var sum: Double?
    var count: Int?
    for line in text.split(separator: "\n") where line.hasPrefix("vmalert_iteration_duration_seconds_") && line.contains("group=\"bench\"") {
        let value = line.split(separator: " ").last.flatMap { Double($0) }
        if line.hasPrefix("vmalert_iteration_duration_seconds_sum") { sum = value }
        if line.hasPrefix("vmalert_iteration_duration_seconds_count") { count = value.map { Int($0) } }
    }
    guard let sum, let count, count > 0 else { return nil }
    return (sum / Double(count), count)
}

func residentKiB(pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    return status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        .flatMap { Int($0.split(whereSeparator: \.isWhitespace)[1]) }
}

func startProcess(_ path: String, _ arguments: [String], log: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    FileManager.default.createFile(atPath: log, contents: nil)
    process.standardOutput = FileHandle(forWritingAtPath: log)
    process.standardError = FileHandle(forWritingAtPath: log)
    try process.run()
    return process
}

func format(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }

let work = try TemporaryDirectory()
defer { work.remove() }

// MARK: 3. Alert routing (first: it needs no VictoriaMetrics)

if sections.contains("alerting") {
    do {
        let (ours, theirs) = try await AlertRoutingBench.run(work: work)
        let count = Double(AlertRoutingBench.alertCount)
        func rate(_ seconds: Double) -> String { String(format: "%.0f alerts/s", count / seconds) }
        func percentile(_ values: [Double], _ p: Double) -> String { format(values[min(values.count - 1, Int(Double(values.count) * p))]) }
        print(
            "alert intake, 10000 alerts accepted: ours \(rate(ours.acceptSeconds)), Alertmanager \(rate(theirs.acceptSeconds)), ratio \(String(format: "%.2f", theirs.acceptSeconds / ours.acceptSeconds))"
        )
        print(
            "alert intake, 10000 alerts delivered to the webhook: ours \(rate(ours.deliveredSeconds)), Alertmanager \(rate(theirs.deliveredSeconds)), ratio \(String(format: "%.2f", theirs.deliveredSeconds / ours.deliveredSeconds))"
        )
        print(
            "arrival → webhook latency (group_wait 0), p50/p99: ours \(percentile(ours.latencies, 0.5)) / \(percentile(ours.latencies, 0.99)), Alertmanager \(percentile(theirs.latencies, 0.5)) / \(percentile(theirs.latencies, 0.99))"
        )
        // p99 of 30 samples is their maximum: say whether it is the first one, right after the storm.
        print(
            "  first sample after the storm: ours \(format(ours.firstLatency)), Alertmanager \(format(theirs.firstLatency)); "
                + "slowest of the other 29: ours \(format(ours.laterLatencyMax)), Alertmanager \(format(theirs.laterLatencyMax))")
    } catch {
        benchFailed("alerting", error)
    }
}

// MARK: 3b. Single-alert batches from many agents (the fleet's pattern)

if sections.contains("alerting") || sections.contains("single") {
    do {
        _ = FleetBench.raiseFileLimit()
        let (ours, theirs) = try await SingleAlertIntakeBench.run(work: work)
        let count = Double(SingleAlertIntakeBench.alertCount)
        func rate(_ seconds: Double?) -> String { seconds.map { String(format: "%.0f alerts/s", count / $0) } ?? "not measured" }
        let agents = SingleAlertIntakeBench.agents
        print(
            "alert intake, single-alert batches from \(agents) agents: ours \(rate(ours.acceptSeconds)), "
                + "Alertmanager \(rate(theirs.acceptSeconds)), ratio \(String(format: "%.2f", theirs.acceptSeconds / ours.acceptSeconds))"
        )
        print(
            "  (\(SingleAlertIntakeBench.alertsPerAgent) batches of one alert per agent, all agents at once; Alertmanager gets the same alerts as single-alert posts from \(agents) senders)"
        )
        print(
            "  … every alert notified (one group each): ours \(rate(ours.deliveredSeconds)), Alertmanager \(rate(theirs.deliveredSeconds))"
                + ((ours.deliveredSeconds).flatMap { o in theirs.deliveredSeconds.map { t in ", ratio \(String(format: "%.2f", t / o))" } } ?? ""))
    } catch {
        benchFailed("single", error)
    }
}

// MARK: 4. Installing components

if sections.contains("install") {
    do {
        let (scratch, change, kubectl) = try await InstallBench.run(work: work)
        let objects = InstallBench.components * InstallBench.objectsPerComponent
        print(
            "install, \(InstallBench.components) components × \(InstallBench.objectsPerComponent) objects from scratch: ours \(format(scratch.seconds)), "
                + "\(scratch.requests) API requests (\(scratch.applies) applies)"
                + (kubectl.map {
                    "; kubectl apply --server-side of the same \(objects) objects \(format($0.seconds)), \($0.requests) API requests, ratio \(String(format: "%.2f", scratch.seconds / $0.seconds))"
                } ?? "; kubectl peer not run"))
        print(
            "install, after a change to one component: ours \(format(change.seconds)), \(change.requests) API requests (\(change.applies) applies; "
                + "the other \(InstallBench.components - 1) components re-applied: \(change.applies > InstallBench.objectsPerComponent ? "yes ✘" : "none")")
    } catch {
        benchFailed("install", error)
    }
}

// MARK: 5. Fleet load

if sections.contains("fleet") {
    let limit = FleetBench.raiseFileLimit()
    print(
        "fleet: open-file limit \(limit) (inherited by the controller and the simulator); ephemeral ports "
            + ((try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\t", with: "–") ?? "?"))
    for count in (environment["FLEET_AGENTS"] ?? "1000").split(separator: ",").compactMap({ Int($0) }) {
        do {
            FleetBench.report(try await FleetBench.run(agents: count, work: work, binDirectory: binDirectory))
        } catch {
            benchFailed("fleet \(count)", error)
        }
    }
}

if sections.isSubset(of: ["alerting", "single", "install", "fleet"]) { exit(0) }

// MARK: 1. Evaluation round time

let vm: TestVictoriaMetrics
do {
    vm = try await TestVictoriaMetrics.start()
    try await seed(vm)
} catch {
    benchFailed("VictoriaMetrics", error)
}
defer { vm.stop() }
if sections.contains("rules") {
    do {
        print("bench: VictoriaMetrics \(vm.url), 10,000 series; group concurrency \(concurrency) for both")

        let thousand = rulesYAML(count: 1000, interval: "20s")
        let groups = try RuleFileCheckerBridge.groups(thousand)
        let outbox = try AlertOutbox(directory: work.url.appendingPathComponent("outbox"), instance: "bench", maxBatches: 1_000_000, logger: logger)
        let rounds = try await RoundTimer.measure(
            group: groups[0], storeURL: vm.url, outbox: outbox, stateDirectory: work.url.appendingPathComponent("rules"),
            rounds: 5)
        let ours = median(rounds)

        let receiver = try await AlertmanagerAPIReceiver.start()
        let vmalertPort = try freeLoopbackPort()
        try thousand.write(toFile: work.path("thousand.yml"), atomically: false, encoding: .utf8)
        let vmalert = try startProcess(
            "/usr/bin/vmalert",
            [
                "-rule=\(work.path("thousand.yml"))", "-datasource.url=\(vm.url)",
                "-notifier.url=\(receiver.url)", "-httpListenAddr=127.0.0.1:\(vmalertPort)",
                "-loggerLevel=ERROR",
            ], log: work.path("vmalert.log"))
        var theirs: Double?
        for _ in 0..<60 {
            try await Task.sleep(for: .seconds(5))
            // The first round includes start-up; wait for at least four.
            if let (seconds, count) = try? await vmalertIterationSeconds(metricsURL: "http://127.0.0.1:\(vmalertPort)/metrics"), count >= 4 {
                theirs = seconds
                break
            }
        }
        vmalert.terminate()
        vmalert.waitUntilExit()
        try await receiver.stop()
        guard let theirs else { benchFailed("rules", BenchFailure("vmalert reported no iterations; see \(work.path("vmalert.log"))")) }
        print(
            "round, 1000 rules / 10000 series: ours \(format(ours)) (median of \(rounds.count)), vmalert \(format(theirs)) (mean), ratio \(String(format: "%.2f", ours / theirs))"
        )
    } catch {
        benchFailed("rules", error)
    }
}

// MARK: 2. Resident memory, real processes

if sections.contains("memory") {
    do {
        let two = rulesYAML(count: 200, interval: "10s")
        try two.write(toFile: work.path("two.yml"), atomically: false, encoding: .utf8)
        // Three agents side by side: 200 rules; idle (enrolled, an empty workspace, long-polling); and
        // one installing 20 components × 10 objects through the test Kubernetes API server.
        let agentRun = try await MemoryRun.start(
            name: "rules", workspace: try MemoryRun.rulesWorkspace(two), vmURL: vm.url, work: work, binDirectory: binDirectory)
        let idleRun = try await MemoryRun.start(
            name: "idle", workspace: Data(#"{"spec":{}}"#.utf8), vmURL: vm.url, work: work, binDirectory: binDirectory)
        let kubePKI = try TestPKI()
        defer { kubePKI.remove() }
        let kube = try await KubernetesTestServer.start(pki: kubePKI)
        try """
        apiVersion: v1
        kind: Config
        clusters: [{name: test, cluster: {server: "\(kube.url.replacingOccurrences(of: "127.0.0.1", with: "localhost"))", certificate-authority: "\(kubePKI.caBundle)"}}]
        users: [{name: test, user: {token: test-token}}]
        contexts: [{name: test, context: {cluster: test, user: test, namespace: qbeast}}]
        current-context: test
        """.write(toFile: work.path("memory-kubeconfig"), atomically: true, encoding: .utf8)
        let components: JSONValue = .array(
            (0..<InstallBench.components).map { index in
                ["name": .string("component-\(index)"), "manifests": .array(InstallBench.manifests(component: index, version: 1))]
            })
        let installRun = try await MemoryRun.start(
            name: "install", workspace: try JSONEncoder().encode(["spec": ["components": components]] as JSONValue), vmURL: vm.url, work: work,
            binDirectory: binDirectory, extraArguments: ["--kubeconfig", work.path("memory-kubeconfig"), "--namespace", "qbeast"])
        let objects = InstallBench.components * InstallBench.objectsPerComponent
        let installStarted = ContinuousClock.now
        while kube.requests.filter({ $0.method == "PATCH" }).count < objects, ContinuousClock.now - installStarted < .seconds(180) {
            try await Task.sleep(for: .milliseconds(100))
        }
        let installSeconds = (ContinuousClock.now - installStarted).timeInterval
        let installPeakKiB = FleetBench.statusKiB(pid: installRun.agent.processIdentifier, "VmHWM")
        let installApplied = kube.requests.filter { $0.method == "PATCH" }.count

        let receiver2 = try await AlertmanagerAPIReceiver.start()
        let vmalert2 = try startProcess(
            "/usr/bin/vmalert",
            [
                "-rule=\(work.path("two.yml"))", "-datasource.url=\(vm.url)",
                "-notifier.url=\(receiver2.url)", "-httpListenAddr=127.0.0.1:\(try freeLoopbackPort())",
                "-loggerLevel=ERROR",
            ], log: work.path("vmalert2.log"))
        print("bench: measuring resident memory after \(memorySeconds) s with 200 rules …")
        try await Task.sleep(for: .seconds(memorySeconds))
        let agentKiB = residentKiB(pid: agentRun.agent.processIdentifier) ?? 0
        let vmalertKiB = residentKiB(pid: vmalert2.processIdentifier) ?? 0
        let idleKiB = residentKiB(pid: idleRun.agent.processIdentifier) ?? 0
        let installKiB = residentKiB(pid: installRun.agent.processIdentifier) ?? 0
        let ours = ResidentBreakdown.read(pid: agentRun.agent.processIdentifier)
        let theirs = ResidentBreakdown.read(pid: vmalert2.processIdentifier)
        let idle = ResidentBreakdown.read(pid: idleRun.agent.processIdentifier)
        vmalert2.terminate()
        vmalert2.waitUntilExit()
        try await receiver2.stop()
        try await agentRun.stop()
        try await idleRun.stop()
        try await installRun.stop()
        try await kube.stop()
        func mib(_ kib: Int) -> String { String(format: "%.1f MiB", Double(kib) / 1024) }
        print(
            "resident memory, 200 rules after \(memorySeconds) s: ours \(agentKiB / 1024) MiB, vmalert \(vmalertKiB / 1024) MiB, ratio \(String(format: "%.2f", Double(agentKiB) / Double(max(vmalertKiB, 1))))"
        )
        print("resident memory, idle agent (enrolled, no rules, long-polling) after \(memorySeconds) s: ours \(mib(idleKiB))")
        print(
            "resident memory, installing \(InstallBench.components) × \(InstallBench.objectsPerComponent) objects: peak (VmHWM) \(mib(installPeakKiB)) "
                + "(\(installApplied) of \(objects) objects applied in \(String(format: "%.1f", installSeconds)) s), \(mib(installKiB)) after \(memorySeconds) s, "
                + "ratio to the rules figure \(String(format: "%.2f", Double(installPeakKiB) / Double(max(agentKiB, 1))))")
        if let ours { print("  where the agent's (200 rules) is: \(ours.summary)") }
        if let idle { print("  where the idle agent's is: \(idle.summary)") }
        if let theirs { print("  where vmalert's is: \(theirs.summary)") }
        if let ours {
            print(
                "  the agent's largest mappings: "
                    + ours.mappings.prefix(8).map { "\(($0.path as NSString).lastPathComponent) \(mib($0.kib))" }.joined(separator: ", "))
        }
        let binary = "\(binDirectory)/qbeast-agent"
        let size = ((try? FileManager.default.attributesOfItem(atPath: binary))?[.size] as? NSNumber)?.intValue ?? 0
        let libraries = Set((ours?.mappings ?? []).map(\.path).filter { $0.hasPrefix("/") && $0 != binary && $0.contains(".so") })
        let librariesSize = libraries.reduce(0) { $0 + ((((try? FileManager.default.attributesOfItem(atPath: $1))?[.size] as? NSNumber)?.intValue) ?? 0) }
        print(
            "agent binary: \(mib(size / 1024)) (\(binary)), plus \(libraries.count) shared libraries mapped (\(mib(librariesSize / 1024)) on disk: "
                + libraries.map { ($0 as NSString).lastPathComponent }.sorted().joined(separator: " ") + ")")
    } catch {
        benchFailed("memory", error)
    }
}
