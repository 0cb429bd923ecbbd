import Foundation
import NIOHTTP1
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting
import Synchronization

/// Fleet load (issue #8): the real `qbeast-controller` process with a fresh SQLite database (or
/// `FLEET_STORE=postgres`: a fresh PostgreSQL database, `FLEET_REPLICAS` controllers sharing it, the
/// agents spread over them), N tenants/environments made through the operator API, and
/// `qbeast-fleet-sim` opening N agent connections with N distinct certificates. Measures propagation
/// of a fleet-wide rollout, the controllers' resident memory and CPU in steady state (summed over
/// replicas), and resynchronisation after a restart (of every replica at once).
enum FleetBench {
    static let adminToken = "fleet-bench-admin-token-0123456789"
    static let trustDomain = "qbeast.bench"

    struct Figures {
        var agents: Int
        /// "SQLite", or "PostgreSQL, 2 replicas".
        var store: String
        var prepareSeconds: Double
        var prepareNote: String
        var createSeconds: Double
        var connectSeconds: Double
        var idleRSSKiB: Int
        var rolloutSeconds: Double
        var propagation: [Double]
        var steadySeconds: Double
        var controllerRSSKiB: Int
        var controllerHWMKiB: Int
        var controllerCPU: Double
        var simRSSKiB: Int
        var simCPU: Double
        var heartbeatsPerSecond: Double
        var controllerFDs: Int
        var shutdownSeconds: Double
        var restartReadySeconds: Double
        var resyncSeconds: Double?
        var resyncFromKillSeconds: Double?
        var resyncServerSeconds: Double?
        var connectServerSeconds: Double
        var peakConnectRate: Double
        var reconnectAttempts: Int
        var failures: Int
        var tcpOpens: Int
        var peakTCPOpenRate: Double
    }

    // MARK: The simulator's stdout

    struct Stat {
        var nanos: UInt64
        var polling: Int
        var live: Int
        var connects: Int
        var failures: Int
        var status: Int
        var alerts: Int
    }

    final class SimOutput: Sendable {
        struct State {
            var revisions: [[(revision: Int64, nanos: UInt64)]] = []
            var stats: [Stat] = []
            var ready = false
            var partial = ""
        }
        let state: Mutex<State>

        init(count: Int) { state = Mutex(State(revisions: Array(repeating: [], count: count))) }

        func consume(_ data: Data) {
            state.withLock { state in
                state.partial += String(decoding: data, as: UTF8.self)
                var lines = state.partial.split(separator: "\n", omittingEmptySubsequences: false)
                state.partial = String(lines.removeLast())
                for line in lines {
                    let fields = line.split(separator: " ")
                    switch fields.first {
                    case "rev":
                        guard fields.count == 4, let index = Int(fields[1]), let revision = Int64(fields[2]), let nanos = UInt64(fields[3]),
                            state.revisions.indices.contains(index)
                        else { continue }
                        state.revisions[index].append((revision, nanos))
                    case "stat":
                        guard fields.count >= 2, let nanos = UInt64(fields[1]) else { continue }
                        var values: [Substring: Int] = [:]
                        for field in fields.dropFirst(2) {
                            let pair = field.split(separator: "=")
                            if pair.count == 2 { values[pair[0]] = Int(pair[1]) }
                        }
                        state.stats.append(
                            Stat(
                                nanos: nanos, polling: values["polling"] ?? 0, live: values["live"] ?? 0,
                                connects: values["connects"] ?? 0, failures: values["failures"] ?? 0,
                                status: values["status"] ?? 0, alerts: values["alerts"] ?? 0))
                    case "ready":
                        state.ready = true
                    default:
                        continue
                    }
                }
            }
        }

        var lastStat: Stat? { state.withLock { $0.stats.last } }
    }

    // MARK: Processes and /proc

    static func nanos() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    static func seconds(_ from: UInt64, _ to: UInt64) -> Double { (Double(to) - Double(from)) / 1e9 }

    /// utime + stime of `pid` in seconds.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func statusKiB(pid: Int32, _ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        return status.split(separator: "\n").first { $0.hasPrefix("\(field):") }
            .flatMap { Int($0.split(whereSeparator: \.isWhitespace)[1]) } ?? 0
    }

    /// TCP connection attempts made on this machine so far (`Tcp: ActiveOpens` of /proc/net/snmp;
    /// machine-wide, so other work on the machine adds a little).
    static func tcpActiveOpens() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/net/snmp", encoding: .utf8) else { return 0 }
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("Tcp:") }.map { $0.split(separator: " ") }
        guard lines.count == 2, let column = lines[0].firstIndex(of: "ActiveOpens") else { return 0 }
        return Int(lines[1][column]) ?? 0
    }

    static func openFiles(pid: Int32) -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0 }

    /// Raises this process's open-file limit (inherited by the controller and the simulator):
    /// the soft limit to the hard one, and as root both to what the kernel allows (fs.nr_open).
    static func raiseFileLimit() -> rlim_t {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        let kernel =
            (try? String(contentsOfFile: "/proc/sys/fs/nr_open", encoding: .utf8))
            .flatMap { rlim_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? limit.rlim_max
        var raised = rlimit(rlim_cur: max(kernel, limit.rlim_max), rlim_max: max(kernel, limit.rlim_max))
        if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) != 0 {
            limit.rlim_cur = limit.rlim_max
            setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        return limit.rlim_cur
    }

    static func spawn(
        _ path: String, _ arguments: [String], log: String, environment extra: [String: String] = [:],
        stdout: Pipe? = nil
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = stdout ?? FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        return process
    }

    /// Runs `body` for 0..<count with at most `width` at a time.
    static func concurrently(_ count: Int, width: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < min(width, count) {
                let index = next
                group.addTask { try await body(index) }
                next += 1
            }
            while try await group.next() != nil {
                if next < count {
                    let index = next
                    group.addTask { try await body(index) }
                    next += 1
                }
            }
        }
    }

    /// The simulator: a wait fails at once when it has exited.
    static let watched = Locked<Process?>(nil)

    static func waitFor(_ what: String, timeout: Double, every: Duration = .milliseconds(100), _ condition: () async -> Bool) async throws {
        let deadline = nanos() + UInt64(timeout * 1e9)
        while nanos() < deadline {
            if let process = watched.value.withLock({ $0 }), !process.isRunning {
                throw BenchFailure("\(process.executableURL?.lastPathComponent ?? "a process") exited while waiting for \(what)")
            }
            if await condition() { return }
            try await Task.sleep(for: every)
        }
        throw BenchFailure("timed out waiting for \(what)")
    }

    /// The controller's own count of held long polls (recorded as each poll starts waiting).
    static func controllerWaiting(metricsPort: Int) async -> Int? {
        guard let text = try? await plainHTTP(.GET, "http://127.0.0.1:\(metricsPort)/metrics").text else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("qbeast_controller_long_polls_waiting") }
            .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }.map { Int($0) }
    }

    // MARK: The run

    static func run(agents count: Int, work: TemporaryDirectory, binDirectory: String) async throws -> Figures {
        let environment = ProcessInfo.processInfo.environment
        let steadySeconds = Double(environment["FLEET_STEADY_SECONDS"] ?? "") ?? 60
        let width = Int(environment["FLEET_API_CONCURRENCY"] ?? "") ?? 16
        let simulator = "\(binDirectory)/qbeast-fleet-sim"
        let pki = environment["FLEET_PKI"] ?? "\(binDirectory)/../fleet-pki"

        // 1. Certificates (cached between runs).
        var started = nanos()
        let prepare = try spawn(
            simulator, ["prepare", "--pki", pki, "--count", "\(count)", "--trust-domain", trustDomain],
            log: work.path("prepare-\(count).log"))
        prepare.waitUntilExit()
        guard prepare.terminationStatus == 0 else { throw BenchFailure("certificates not made; see \(work.path("prepare-\(count).log"))") }
        let prepareSeconds = seconds(started, nanos())
        let prepareNote =
            (try? String(contentsOfFile: work.path("prepare-\(count).log"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        print("fleet \(count): \(prepareNote)")

        // 2. The controllers, a fresh database.
        let postgres = environment["FLEET_STORE"] == "postgres" ? try await TestPostgres.start() : nil
        defer { postgres?.stop() }
        let replicas = postgres == nil ? 1 : max(1, Int(environment["FLEET_REPLICAS"] ?? "") ?? 1)
        let storeName = postgres == nil ? "SQLite" : "PostgreSQL, \(replicas) replica\(replicas == 1 ? "" : "s")"
        let database: String
        if let postgres { database = "\(try await postgres.createDatabase())" } else { database = work.path("fleet-\(count).sqlite") }
        typealias Ports = (operator: Int, agent: Int, metrics: Int, enroll: Int)
        let replicaPorts: [Ports] = try (0..<replicas).map { _ in
            (operator: try freeLoopbackPort(), agent: try freeLoopbackPort(), metrics: try freeLoopbackPort(), enroll: try freeLoopbackPort())
        }
        let ports = replicaPorts[0]
        func controllerArguments(_ ports: Ports) -> [String] {
            [
                "serve", "--operator-listen", "127.0.0.1:\(ports.operator)", "--agent-listen", "127.0.0.1:\(ports.agent)",
                "--metrics-listen", "127.0.0.1:\(ports.metrics)", "--enroll-listen", "127.0.0.1:\(ports.enroll)",
                "--tls-cert", "\(pki)/controller.pem", "--tls-key", "\(pki)/controller-key.pem", "--client-ca", "\(pki)/ca.pem",
                "--trust-domain", trustDomain, "--database", database, "--log-level", "warning",
            ]
        }
        let controllerEnvironment = ["QBEAST_ADMIN_TOKEN": adminToken]
        func startController(_ generation: Int, replica: Int) async throws -> Process {
            let log = work.path("controller-\(count)-\(generation)-\(replica).log")
            let process = try spawn(
                "\(binDirectory)/qbeast-controller", controllerArguments(replicaPorts[replica]), log: log, environment: controllerEnvironment)
            do {
                try await waitFor("controller ready", timeout: 60) {
                    (try? await plainHTTP(.GET, "http://127.0.0.1:\(replicaPorts[replica].metrics)/readyz").status) == 200
                }
            } catch {
                if process.isRunning { process.terminate() }
                throw BenchFailure("\(error); the controller's last log lines (\(log)):\n" + tail(log, lines: 5))
            }
            return process
        }
        func startControllers(_ generation: Int) async throws -> [Process] {
            var started: [Process] = []
            for replica in 0..<replicas { started.append(try await startController(generation, replica: replica)) }
            return started
        }
        /// Held long polls over every replica.
        func waiting() async -> Int {
            var total = 0
            for ports in replicaPorts { total += await controllerWaiting(metricsPort: ports.metrics) ?? 0 }
            return total
        }
        var controllers = try await startControllers(1)
        let api = TestHTTPClient(baseURL: "https://127.0.0.1:\(ports.operator)", tls: try TLSConfigurations.operatorClient(trustBundle: "\(pki)/ca.pem"))
        defer { if postgres == nil { try? FileManager.default.removeItem(atPath: database) } }

        // 3. N tenants with one environment each.
        started = nanos()
        try await concurrently(count, width: width) { index in
            let tenant = try await api.request(.POST, "/v1/tenants", json: #"{"name":"f\#(index)"}"#, token: adminToken)
            guard tenant.status == 201 else { throw BenchFailure("tenant f\(index): \(tenant.status) \(tenant.text)") }
            let environment = try await api.request(
                .POST, "/v1/tenants/f\(index)/environments", json: #"{"name":"prod","cloud":"aws","mode":"provided"}"#,
                token: adminToken)
            guard environment.status == 201 else { throw BenchFailure("environment f\(index)/prod: \(environment.status) \(environment.text)") }
        }
        let createSeconds = seconds(started, nanos())
        print(
            "fleet \(count): \(count) tenants + environments created in \(String(format: "%.1f", createSeconds)) s "
                + "(\(String(format: "%.0f", Double(2 * count) / createSeconds)) requests/s, \(width) at a time)")
        let idleRSS = controllers.reduce(0) { $0 + statusKiB(pid: $1.processIdentifier, "VmRSS") }

        // 4. The fleet.
        let output = SimOutput(count: count)
        let pipe = Pipe()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { output.consume(data) }
        }
        started = nanos()
        let sim = try spawn(
            simulator,
            ["run", "--url", replicaPorts.map { "https://127.0.0.1:\($0.agent)" }.joined(separator: ","), "--pki", pki, "--count", "\(count)"]
                + (environment["FLEET_HTTP1"] == "1" ? ["--http1"] : [])
                + (environment["FLEET_AHC_CONNECT_RETRY"] == "1" ? ["--ahc-connect-retry"] : []),
            log: work.path("sim-\(count).log"), stdout: pipe)
        watched.value.withLock { $0 = sim }
        defer {
            watched.value.withLock { $0 = nil }
            if sim.isRunning { sim.terminate(); sim.waitUntilExit() }
            for controller in controllers where controller.isRunning { controller.terminate(); controller.waitUntilExit() }
            pipe.fileHandleForReading.readabilityHandler = nil
        }
        try await waitFor("all \(count) agents long-polling", timeout: 120 + Double(count) / 20) {
            output.lastStat?.live == count && output.state.withLock { $0.revisions.allSatisfy { !$0.isEmpty } }
        }
        let connectSeconds = seconds(started, nanos())
        // The controller's side: its gauge reaches N when a poll starts waiting beside N - 1 others.
        try await waitFor("the controller holding \(count) long polls", timeout: 120 + Double(count) / 20, every: .milliseconds(250)) {
            await waiting() >= count
        }
        let connectServerSeconds = seconds(started, nanos())
        print(
            "fleet \(count): all \(count) agents long-polling \(String(format: "%.1f", connectSeconds)) s after the simulator started "
                + "(the agents' view), \(String(format: "%.1f", connectServerSeconds)) s (the controller holding all \(count) polls)")

        // 5. Propagation: one workspace PUT per environment; for each, 2xx → that agent has the new revision.
        let baseline = output.state.withLock { $0.revisions.map { $0.last?.revision ?? 0 } }
        let applied = Locked([UInt64](repeating: 0, count: count))
        let body =
            #"{"spec":{"components":[{"name":"app","manifests":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fleet"},"data":{"rollout":"1"}}]}],"ruleGroups":[]}}"#
        started = nanos()
        try await concurrently(count, width: width) { index in
            let response = try await api.request(.PUT, "/v1/tenants/f\(index)/environments/prod/workspaces/fleet", json: body, token: adminToken)
            let at = nanos()
            guard (200..<300).contains(response.status) else { throw BenchFailure("workspace f\(index): \(response.status) \(response.text)") }
            applied.value.withLock { $0[index] = at }
        }
        let rolloutSeconds = seconds(started, nanos())
        func received() -> [UInt64?] {
            output.state.withLock { state in
                (0..<count).map { index in state.revisions[index].first { $0.revision > baseline[index] }?.nanos }
            }
        }
        try await waitFor("every agent has the new revision", timeout: 60 + Double(count) / 50) {
            received().allSatisfy { $0 != nil }
        }
        let appliedAt = applied.value.withLock { $0 }
        let propagation = zip(appliedAt, received()).map { seconds($0, $1!) }.sorted()
        print("fleet \(count): rollout of \(count) workspace PUTs took \(String(format: "%.1f", rolloutSeconds)) s")

        // 6. Steady state: all connected, heartbeating.
        try await Task.sleep(for: .seconds(5))
        func controllersCPU() -> Double { controllers.reduce(0) { $0 + (cpuSeconds(pid: $1.processIdentifier) ?? 0) } }
        let cpu0 = controllersCPU()
        let simCPU0 = cpuSeconds(pid: sim.processIdentifier) ?? 0
        let stat0 = output.lastStat!
        let window0 = nanos()
        try await Task.sleep(for: .seconds(steadySeconds))
        let window = seconds(window0, nanos())
        let controllerCPU = (controllersCPU() - cpu0) / window
        let simCPU = ((cpuSeconds(pid: sim.processIdentifier) ?? 0) - simCPU0) / window
        let stat1 = output.lastStat!
        let rss = controllers.reduce(0) { $0 + statusKiB(pid: $1.processIdentifier, "VmRSS") }
        let hwm = controllers.reduce(0) { $0 + statusKiB(pid: $1.processIdentifier, "VmHWM") }
        let simRSS = statusKiB(pid: sim.processIdentifier, "VmRSS")
        let fds = controllers.reduce(0) { $0 + openFiles(pid: $1.processIdentifier) }
        let heartbeats = Double(stat1.status - stat0.status) / seconds(stat0.nanos, stat1.nanos)
        if stat1.live != count { print("fleet \(count): note: \(stat1.live) of \(count) agents connected at the end of the steady window") }

        // 7. Resync: SIGTERM, restart on the same ports and database, until every agent long-polls again.
        let opens = Locked<[(UInt64, Int)]>([])
        let sampler = Task {
            while !Task.isCancelled {
                opens.value.withLock { $0.append((nanos(), tcpActiveOpens())) }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        // The bench's own operator connection goes first: an idle HTTP/2 client connection holds the
        // controller's graceful shutdown for ~5 s (Hummingbird waits for it), which is not the agents' doing.
        try await api.shutdown()
        let killed = nanos()
        for controller in controllers { controller.terminate() }
        for controller in controllers { controller.waitUntilExit() }
        let exited = nanos()
        controllers = try await startControllers(2)
        let ready = nanos()
        var allBack: UInt64?
        do {
            try await waitFor("all \(count) agents long-polling after the restart", timeout: 180 + Double(count) / 20, every: .milliseconds(50)) {
                guard let stat = output.lastStat, stat.nanos > exited + 200_000_000, stat.live == count else { return false }
                allBack = stat.nanos
                return true
            }
        } catch {
            print("fleet \(count): \(error) (\(output.lastStat?.live ?? 0) connected)")
        }
        var serverBack: UInt64?
        do {
            try await waitFor("the restarted controller holding \(count) long polls", timeout: 120, every: .milliseconds(250)) {
                guard await waiting() >= count else { return false }
                serverBack = nanos()
                return true
            }
        } catch {
            print("fleet \(count): \(error) (\(await waiting()))")
        }
        sampler.cancel()
        let openSamples = opens.value.withLock { $0 }
        var peakOpens = 0.0
        for (index, sample) in openSamples.enumerated() {
            // Attempts within the following second.
            guard let later = openSamples[index...].last(where: { $0.0 <= sample.0 + 1_000_000_000 }), later.0 > sample.0 else { continue }
            if later.0 - sample.0 >= 900_000_000 { peakOpens = max(peakOpens, Double(later.1 - sample.1) / seconds(sample.0, later.0)) }
        }
        let tcpOpens = (openSamples.last?.1 ?? 0) - (openSamples.first?.1 ?? 0)
        if let dump = environment["FLEET_DUMP"] {
            let lines = output.state.withLock {
                $0.stats.map {
                    "\($0.nanos) polling=\($0.polling) live=\($0.live) connects=\($0.connects) failures=\($0.failures) status=\($0.status) alerts=\($0.alerts)"
                }
            }
            try? ("killed=\(killed) exited=\(exited) ready=\(ready)\n" + lines.joined(separator: "\n") + "\n").write(
                toFile: "\(dump)-\(count).txt", atomically: false, encoding: .utf8)
        }
        let resyncStats = output.state.withLock { $0.stats.filter { $0.nanos >= killed } }
        var peak = 0.0
        for (previous, next) in zip(resyncStats, resyncStats.dropFirst()) {
            peak = max(peak, Double(next.connects - previous.connects) / seconds(previous.nanos, next.nanos))
        }
        let attempts = (resyncStats.last?.connects ?? 0) - (resyncStats.first?.connects ?? 0)
        let failures = (resyncStats.last?.failures ?? 0) - (resyncStats.first?.failures ?? 0)

        sim.terminate()
        sim.waitUntilExit()
        for controller in controllers { controller.terminate() }
        for controller in controllers { controller.waitUntilExit() }

        return Figures(
            agents: count, store: storeName, prepareSeconds: prepareSeconds, prepareNote: prepareNote, createSeconds: createSeconds,
            connectSeconds: connectSeconds,
            idleRSSKiB: idleRSS, rolloutSeconds: rolloutSeconds, propagation: propagation, steadySeconds: window,
            controllerRSSKiB: rss, controllerHWMKiB: hwm, controllerCPU: controllerCPU, simRSSKiB: simRSS, simCPU: simCPU,
            heartbeatsPerSecond: heartbeats, controllerFDs: fds, shutdownSeconds: seconds(killed, exited),
            restartReadySeconds: seconds(exited, ready), resyncSeconds: allBack.map { seconds(ready, $0) },
            resyncFromKillSeconds: allBack.map { seconds(killed, $0) },
            resyncServerSeconds: serverBack.map { seconds(ready, $0) }, connectServerSeconds: connectServerSeconds, peakConnectRate: peak,
            reconnectAttempts: attempts,
            failures: failures, tcpOpens: tcpOpens, peakTCPOpenRate: peakOpens)
    }

    static func report(_ figures: Figures) {
        let n = figures.store == "SQLite" ? "\(figures.agents)" : "\(figures.agents) (\(figures.store))"
        func ms(_ seconds: Double) -> String { String(format: "%.0f ms", seconds * 1000) }
        func pct(_ p: Double) -> Double { figures.propagation[min(figures.propagation.count - 1, Int(Double(figures.propagation.count) * p))] }
        print(
            "fleet \(n): propagation PUT 2xx → agent has the revision: p50 \(ms(pct(0.5))), p99 \(ms(pct(0.99))), max \(ms(figures.propagation.last ?? 0)), "
                + "min \(ms(figures.propagation.first ?? 0)); rollout \(String(format: "%.1f", figures.rolloutSeconds)) s "
                + "(\(String(format: "%.0f", Double(figures.agents) / figures.rolloutSeconds)) PUTs/s)")
        print(
            "fleet \(n): controller steady state over \(String(format: "%.0f", figures.steadySeconds)) s: VmRSS \(figures.controllerRSSKiB / 1024) MiB "
                + "(\(figures.idleRSSKiB / 1024) MiB before agents connected, VmHWM \(figures.controllerHWMKiB / 1024) MiB), "
                + "CPU \(String(format: "%.1f", figures.controllerCPU * 100)) % of one core, \(figures.controllerFDs) open files, "
                + "\(String(format: "%.0f", figures.heartbeatsPerSecond)) heartbeats/s")
        print(
            "fleet \(n): simulator VmRSS \(figures.simRSSKiB / 1024) MiB (\(figures.simRSSKiB / figures.agents) KiB per agent), CPU \(String(format: "%.1f", figures.simCPU * 100)) %"
        )
        print(
            "fleet \(n): restart: SIGTERM → exit \(String(format: "%.1f", figures.shutdownSeconds)) s, start → ready \(String(format: "%.1f", figures.restartReadySeconds)) s, "
                + "ready → all \(figures.agents) long-polling \(figures.resyncSeconds.map { String(format: "%.1f s", $0) } ?? "not reached") "
                + "(\(figures.resyncFromKillSeconds.map { String(format: "%.1f s", $0) } ?? "–") from SIGTERM), the controller holding all "
                + "\(figures.resyncServerSeconds.map { String(format: "%.1f s", $0) } ?? "not reached") after ready; "
                + "requests retried by agents \(figures.reconnectAttempts) (peak \(String(format: "%.0f", figures.peakConnectRate))/s), failed requests \(figures.failures); "
                + "TCP connection attempts \(figures.tcpOpens) (peak \(String(format: "%.0f", figures.peakTCPOpenRate))/s over 1 s)")
    }
}

final class Locked<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}

/// The last `lines` lines of a log file, indented, for a failure message.
func tail(_ path: String, lines: Int) -> String {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no log)"
    return text.split(separator: "\n").suffix(lines).map { "  " + $0 }.joined(separator: "\n")
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
