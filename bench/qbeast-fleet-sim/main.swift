import Agent
import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import SplitPlaneProtocol
import SplitPlaneTLS
import Synchronization

// A fleet of simulated agents for the `fleet` section of `make bench` (issue #8). Not a test.
//
//   qbeast-fleet-sim prepare --pki DIR --count N [--trust-domain D]
//       Makes (once) a CA and server certificate in DIR and N agent certificates (ECDSA P-256) in
//       DIR/agents, each for spiffe://D/tenant/f<i>/environment/prod; kept for reuse by later runs.
//   qbeast-fleet-sim run --url https://127.0.0.1:PORT[,URL…] --pki DIR --count N [--heartbeat 30]
//                        [--alert-every 600] [--http1] [--ahc-connect-retry]
//       N agents, each with its own certificate and its own HTTPClient (so its own connection), doing
//       what the real agent does on the wire: desired-state long polls, status heartbeats every
//       30 s (random phase, ±10 % jitter), an occasional alert batch; failures retried with the
//       agent's own RetryPolicy (equal jitter, 0.5 s doubling to 60 s).
//
// `run` prints lines for the driver on stdout (times are CLOCK_MONOTONIC nanoseconds, comparable
// across processes on this machine):
//   ready <count> <nanos>               every client made
//   rev <index> <revision> <nanos>      agent <index> received a new desired revision
//   stat <nanos> polling=<n> live=<l> connects=<c> failures=<f> status=<s> alerts=<a>
//       once a second; polling: long polls sent and not yet answered (the agent is waiting on the
//       controller); live: agents whose current long poll is sent, or whose last one was answered
//       less than a second ago (the moment between an answer and the next poll); connects: requests started by an agent whose previous request failed
//       (reconnection attempts, cumulative); failures, status, alerts: cumulative.

func monotonicNanos() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("qbeast-fleet-sim: \(message)\n".utf8))
    exit(2)
}

/// Raises the soft limit of open files to the hard one (as root, the hard one too).
func raiseFileLimit(to wanted: rlim_t) -> rlim_t {
    var limit = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    if limit.rlim_max < wanted {
        var raised = rlimit(rlim_cur: wanted, rlim_max: wanted)
        if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { return wanted }
    }
    limit.rlim_cur = limit.rlim_max
    setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    return limit.rlim_cur
}

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
func flag(_ name: String) -> Bool { arguments.contains("--\(name)") }

guard let command = arguments.first else { fail("usage: qbeast-fleet-sim prepare|run --pki DIR --count N …") }
guard let pkiPath = option("pki") else { fail("--pki DIR is required") }
guard let count = option("count").flatMap(Int.init), count > 0 else { fail("--count N is required") }
let pki = URL(fileURLWithPath: pkiPath)
let agentsDirectory = pki.appendingPathComponent("agents")
let trustDomain = option("trust-domain") ?? "qbeast.bench"

@Sendable func agentFiles(_ index: Int) -> (certificate: URL, key: URL) {
    (agentsDirectory.appendingPathComponent("\(index).pem"), agentsDirectory.appendingPathComponent("\(index)-key.pem"))
}

// MARK: prepare

let prepareErrors = Mutex<[String]>([])

func prepare() throws {
    let fm = FileManager.default
    let caFile = pki.appendingPathComponent("ca.pem")
    let stamp = agentsDirectory.appendingPathComponent("issued-at")
    // Agent certificates live 30 days; a cache older than 20 days (or without its CA) starts over.
    let issuedAt = (try? String(contentsOf: stamp, encoding: .utf8)).flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    if !fm.fileExists(atPath: caFile.path) || issuedAt.map({ Date().timeIntervalSince1970 - $0 > 20 * 86_400 }) ?? true {
        try? fm.removeItem(at: pki)
    }
    if !fm.fileExists(atPath: caFile.path) {
        try DevPKI(directory: pki, trustDomain: trustDomain).generate(agents: [])
    }
    try fm.createDirectory(at: agentsDirectory, withIntermediateDirectories: true)
    if issuedAt == nil { try String(Date().timeIntervalSince1970).write(to: stamp, atomically: true, encoding: .utf8) }
    let ca = try CertificateAuthority.load(
        certificatePEM: String(contentsOf: caFile, encoding: .utf8),
        privateKeyPEM: String(contentsOf: pki.appendingPathComponent("ca-key.pem"), encoding: .utf8))
    let missing = (0..<count).filter { !fm.fileExists(atPath: agentFiles($0).certificate.path) }
    let started = monotonicNanos()
    let now = Date()
    // Key generation and signing are CPU-bound and independent: one chunk per core at a time.
    let chunks = stride(from: 0, to: missing.count, by: 256).map { Array(missing[$0..<min($0 + 256, missing.count)]) }
    DispatchQueue.concurrentPerform(iterations: chunks.count) { chunk in
        for index in chunks[chunk] {
            do {
                let key = P256.Signing.PrivateKey()
                let certificate = try ca.issueAgentCertificate(
                    identity: SPIFFEIdentity(trustDomain: trustDomain, tenant: "f\(index)", environment: "prod"),
                    publicKey: key.publicKey, notBefore: now.addingTimeInterval(-300),
                    notAfter: now.addingTimeInterval(30 * 86_400))
                let files = agentFiles(index)
                try key.pemRepresentation.write(to: files.key, atomically: false, encoding: .utf8)
                // The certificate last: its presence marks the pair complete.
                try certificate.pemString().write(to: files.certificate, atomically: false, encoding: .utf8)
            } catch {
                prepareErrors.withLock { $0.append("agent \(index): \(error)") }
            }
        }
    }
    if let first = prepareErrors.withLock({ $0.first }) { fail(first) }
    let seconds = Double(monotonicNanos() - started) / 1e9
    print("prepared \(missing.count) new agent certificates in \(String(format: "%.2f", seconds)) s (\(count - missing.count) cached)")
}

// MARK: run

let polling = Atomic<Int>(0)
let connects = Atomic<Int>(0)
let failures = Atomic<Int>(0)
let statusSent = Atomic<Int>(0)
/// Long polls answered `503` + `Retry-After` (a controller shutting down).
let comeBackLaters = Atomic<Int>(0)
let alertsSent = Atomic<Int>(0)
let output = Mutex<[String]>([])

func emit(_ line: String) { output.withLock { $0.append(line) } }

func flushOutput() {
    let lines = output.withLock { lines in
        defer { lines.removeAll(keepingCapacity: true) }
        return lines
    }
    guard !lines.isEmpty else { return }
    FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
}

struct SimError: Error, CustomStringConvertible {
    var description: String
}

/// `503`/`429` with `Retry-After`, as the agent's `ControllerClientError.comeBackLater`: waited out as asked.
struct ComeBackLater: Error {
    var seconds: Int
}

/// Collects one response; reports when the request has left (then the agent is waiting on the controller).
final class CollectingDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = (status: UInt, revision: Int64?, retryAfter: Int?, body: ByteBuffer)
    private var status: UInt = 0
    private var revision: Int64?
    private var retryAfter: Int?
    private var body = ByteBuffer()
    private let sent: (@Sendable () -> Void)?

    init(sent: (@Sendable () -> Void)?) { self.sent = sent }

    func didSendRequest(task: HTTPClient.Task<Response>) { sent?() }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status = head.status.code
        revision = head.headers.first(name: "Qbeast-Revision").flatMap { Int64($0) }
        retryAfter = head.headers.first(name: "Retry-After").flatMap { Int($0) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        var buffer = buffer
        body.writeBuffer(&buffer)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response { (status, revision, retryAfter, body) }
}

final class Flag: Sendable {
    let value = Atomic<Bool>(false)
}

struct AgentState {
    var revision: Int64 = 0
    var workspaces: [(name: String, generation: Int64)] = []
    /// Whether the agent's last request failed: its next one is a reconnection attempt.
    var down = false
    /// When its last long poll was answered (0 while one is sent and waiting, or after a failure).
    var answeredAt: UInt64 = 0
    /// Whether its current long poll has been sent and not yet answered.
    var waiting = false
}

final class SimAgent: Sendable {
    let index: Int
    let client: HTTPClient
    let base: String
    let state = Mutex(AgentState())
    let instance: String
    let policy = RetryPolicy()
    let readySince = Date()

    init(index: Int, client: HTTPClient, base: String) {
        self.index = index
        self.client = client
        self.base = base
        instance = "sim-\(index)-\(UInt32.random(in: 0...UInt32.max))"
    }

    private func send(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, deadline: TimeAmount,
        sent: (@Sendable () -> Void)? = nil
    ) async throws -> CollectingDelegate.Response {
        if state.withLock({ $0.down }) { connects.add(1, ordering: .relaxed) }
        var headers = HTTPHeaders()
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        let request = try HTTPClient.Request(url: base + path, method: method, headers: headers, body: body.map { .data($0) })
        do {
            let response = try await client.execute(
                request: request, delegate: CollectingDelegate(sent: sent),
                deadline: .now() + deadline
            ).futureResult.get()
            if [429, 503].contains(response.status), let seconds = response.retryAfter {
                state.withLock { $0.down = true }
                throw ComeBackLater(seconds: min(seconds, 300))
            }
            guard (200..<300).contains(response.status) else {
                throw SimError(description: "\(method) \(path): \(response.status) \(String(buffer: response.body).prefix(200))")
            }
            state.withLock { $0.down = false }
            return response
        } catch let later as ComeBackLater {
            throw later
        } catch {
            state.withLock { $0.down = true }
            failures.add(1, ordering: .relaxed)
            throw error
        }
    }

    /// Connected: a long poll is sent and waiting, or the last one was answered under a second ago
    /// (the moment between an answer and the next poll).
    func connected(at now: UInt64) -> Bool {
        state.withLock { $0.waiting || ($0.answeredAt > 0 && $0.answeredAt + 1_000_000_000 > now) }
    }

    /// The agent's desired-state loop: long poll, note a new revision, poll again.
    func follow() async {
        var attempt = 0
        while true {
            let after = state.withLock { $0.revision }
            let counted = Flag()
            do {
                let response = try await send(.GET, "/agent/v1/desired?after=\(after)&timeout=30", deadline: .seconds(60)) { [self] in
                    if !counted.value.exchange(true, ordering: .relaxed) { polling.add(1, ordering: .relaxed) }
                    state.withLock {
                        $0.waiting = true; $0.answeredAt = 0
                    }
                }
                let answered = monotonicNanos()
                state.withLock {
                    $0.waiting = false; $0.answeredAt = answered
                }
                if counted.value.exchange(false, ordering: .relaxed) { polling.subtract(1, ordering: .relaxed) }
                attempt = 0
                guard let revision = response.revision else { throw SimError(description: "no Qbeast-Revision header") }
                if revision != after {
                    let received = monotonicNanos()
                    let desired = try StrictJSON.decoder().decode(DesiredState.self, from: Data(buffer: response.body))
                    state.withLock {
                        $0.revision = revision; $0.workspaces = desired.workspaces.map { ($0.name, $0.generation) }
                    }
                    emit("rev \(index) \(revision) \(received)")
                }
            } catch {
                if counted.value.exchange(false, ordering: .relaxed) { polling.subtract(1, ordering: .relaxed) }
                state.withLock {
                    $0.waiting = false; $0.answeredAt = 0
                }
                if let later = error as? ComeBackLater {
                    comeBackLaters.add(1, ordering: .relaxed)
                    try? await Task.sleep(for: .seconds(later.seconds))
                    continue
                }
                try? await Task.sleep(for: policy.delay(attempt: attempt))
                attempt += 1
            }
        }
    }

    func report() -> StatusReport {
        let (revision, workspaces) = state.withLock { ($0.revision, $0.workspaces) }
        // As the agent's conditions: the transition time moves only when the condition does.
        let now = readySince
        return StatusReport(
            agent: AgentFacts(
                instance: instance, version: AgentVersion.current, certificateExpiry: nil, rulesLoaded: 0,
                metricsStoreReachable: nil, desiredRevision: revision),
            workspaces: workspaces.map { workspace in
                WorkspaceStatus(
                    name: workspace.name, observedGeneration: workspace.generation,
                    conditions: [
                        Condition(
                            type: "Ready", status: .true, reason: "Simulated", message: "fleet simulator",
                            lastTransitionTime: now)
                    ],
                    components: [])
            })
    }

    /// Status heartbeats at a random phase, then every `interval` ± 10 %; failures retried with backoff.
    func heartbeat(interval: Double) async {
        try? await Task.sleep(for: .seconds(Double.random(in: 0..<interval)))
        var attempt = 0
        while true {
            do {
                _ = try await send(.PUT, "/agent/v1/status", body: try StrictJSON.encode(report()), deadline: .seconds(30))
                statusSent.add(1, ordering: .relaxed)
                attempt = 0
                try? await Task.sleep(for: .seconds(interval * Double.random(in: 0.9...1.1)))
            } catch {
                try? await Task.sleep(for: policy.delay(attempt: attempt))
                attempt += 1
            }
        }
    }

    /// An alert batch now and then (exponentially distributed gaps, mean `every` seconds).
    func alerts(every: Double) async {
        var sequence: Int64 = 0
        while true {
            try? await Task.sleep(for: .seconds(-every * log(Double.random(in: Double.ulpOfOne..<1))))
            guard let workspace = state.withLock({ $0.workspaces.first?.name }) else { continue }
            sequence += 1
            let batch = AlertBatch(
                instance: instance, sequence: sequence,
                alerts: [
                    AgentAlert(
                        workspace: workspace, state: .firing,
                        labels: ["alertname": "FleetSimAlert", "severity": "warning", "instance": "node-\(sequence % 3)"],
                        annotations: ["summary": "simulated alert \(sequence) of agent \(index)"], startsAt: Date())
                ])
            var attempt = 0
            while true {
                do {
                    _ = try await send(.POST, "/agent/v1/alerts", body: try StrictJSON.encode(batch), deadline: .seconds(30))
                    alertsSent.add(1, ordering: .relaxed)
                    break
                } catch {
                    try? await Task.sleep(for: policy.delay(attempt: attempt))
                    attempt += 1
                }
            }
        }
    }
}

func run() async throws {
    guard let url = option("url") else { fail("--url is required") }
    // Several controller replicas: agent i goes to the i-th URL modulo their number.
    let urls = url.split(separator: ",").map(String.init)
    let heartbeat = option("heartbeat").flatMap(Double.init) ?? 30
    let alertEvery = option("alert-every").flatMap(Double.init) ?? 600
    let limit = raiseFileLimit(to: rlim_t(max(65_536, count * 3 + 1024)))
    FileHandle.standardError.write(Data("qbeast-fleet-sim: \(count) agents, open-file limit \(limit)\n".utf8))

    let trust = try NIOSSLCertificate.fromPEMFile(pki.appendingPathComponent("ca.pem").path)
    var agents: [SimAgent] = []
    agents.reserveCapacity(count)
    for index in 0..<count {
        let files = agentFiles(index)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(files.certificate.path).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: files.key.path, format: .pem))
        tls.trustRoots = .certificates(trust)
        tls.minimumTLSVersion = .tlsv12
        // As the agent's ControllerClient: HTTP/2 when the server offers it, one client per identity.
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(10)))
        configuration.httpVersion = flag("http1") ? .http1Only : .automatic
        configuration.decompression = .disabled
        // AsyncHTTPClient's own connection retry (100 ms × 1.25ⁿ, 3 % jitter) off, as in the agent's
        // ControllerClient: a failed connection reaches the RetryPolicy at once. `--ahc-connect-retry`
        // turns it back on (the agent before that fix).
        configuration.connectionPool.retryConnectionEstablishment = flag("ahc-connect-retry")
        agents.append(
            SimAgent(index: index, client: HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration), base: urls[index % urls.count]))
    }
    FileHandle.standardOutput.write(Data("ready \(count) \(monotonicNanos())\n".utf8))

    let fleet = agents
    await withTaskGroup(of: Void.self) { group in
        group.addTask {
            while true {
                try? await Task.sleep(for: .seconds(1))
                let now = monotonicNanos()
                let live = fleet.reduce(0) { $0 + ($1.connected(at: now) ? 1 : 0) }
                emit(
                    "stat \(now) polling=\(polling.load(ordering: .relaxed)) live=\(live) connects=\(connects.load(ordering: .relaxed)) "
                        + "failures=\(failures.load(ordering: .relaxed)) comeBackLater=\(comeBackLaters.load(ordering: .relaxed)) status=\(statusSent.load(ordering: .relaxed)) alerts=\(alertsSent.load(ordering: .relaxed))"
                )
            }
        }
        group.addTask {
            while true {
                try? await Task.sleep(for: .milliseconds(50))
                flushOutput()
            }
        }
        for agent in fleet {
            group.addTask { await agent.follow() }
            group.addTask { await agent.heartbeat(interval: heartbeat) }
            if alertEvery > 0 { group.addTask { await agent.alerts(every: alertEvery) } }
        }
    }
}

switch command {
case "prepare": try prepare()
case "run": try await run()
default: fail("unknown command \(command) (prepare, run)")
}
