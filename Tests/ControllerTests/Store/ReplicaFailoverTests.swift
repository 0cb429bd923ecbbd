import Agent
import AsyncHTTPClient
import Controller
import Crypto
import Foundation
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting
import Synchronization
import Testing
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// Issue #8: a replica killed mid-work loses nothing and notifies nothing twice. Three real
/// `qbeast-controller` processes on one PostgreSQL database, agents (in process) spread over them,
/// Slack through its Web API (the Slack API test server, one channel per environment), and one
/// replica killed with SIGKILL in the middle of an alert storm while Slack holds back its answers —
/// so the victim dies with posts Slack has made but it never heard about. Its agents go on through
/// another replica, every alert is stored, and every alert group is posted exactly once: the replica
/// taking over an unanswered attempt finds it in the channel's history instead of posting it again.
@Suite struct ReplicaFailoverTests {
    /// A `qbeast-controller serve` child process on loopback ports of its own.
    final class ControllerProcess: @unchecked Sendable {
        let name: String
        let process: Process
        let operatorPort: Int
        let agentPort: Int
        let metricsPort: Int
        let log: String

        var agentURL: String { "https://localhost:\(agentPort)" }
        var operatorURL: String { "https://localhost:\(operatorPort)" }

        init(name: String, process: Process, operatorPort: Int, agentPort: Int, metricsPort: Int, log: String) {
            self.name = name
            self.process = process
            self.operatorPort = operatorPort
            self.agentPort = agentPort
            self.metricsPort = metricsPort
            self.log = log
        }

        func kill9() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        var logTail: String {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return "--- \(name) (\(log)) ---\n" + text.split(separator: "\n").suffix(30).joined(separator: "\n")
        }
    }

    /// The `qbeast-controller` executable of this build: `QBEAST_CONTROLLER_BIN`, or next to the test
    /// bundle (`swift test` builds every product into the same directory), or `swift build --show-bin-path`.
    static func controllerBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["QBEAST_CONTROLLER_BIN"] { return path }
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("qbeast-controller").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let swift = Process()
        swift.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        swift.arguments = ["swift", "build", "--show-bin-path"]
        swift.currentDirectoryURL = package
        let output = Pipe()
        swift.standardOutput = output
        swift.standardError = FileHandle.nullDevice
        try swift.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        swift.waitUntilExit()
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) + "/qbeast-controller"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestServerError.notInstalled("qbeast-controller executable (swift build first; looked at \(besideTests) and \(path))")
        }
        return path
    }

    /// Starts a replica as scripts/lib.sh `start_controller` does: the PKI's CA and server certificate,
    /// ports of its own, the shared database and routing file.
    static func startController(
        _ name: String, binary: String, pki: TestPKI, database: String, routing: String,
        directory: TemporaryDirectory
    ) throws -> ControllerProcess {
        let (operatorPort, agentPort, metricsPort, enrollPort) = (
            try freeLoopbackPort(), try freeLoopbackPort(), try freeLoopbackPort(),
            try freeLoopbackPort()
        )
        let tokenFile = directory.path("admin-token")
        if !FileManager.default.fileExists(atPath: tokenFile) {
            try TestController.adminToken.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        }
        let log = directory.path("\(name).log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "serve",
            "--operator-listen", "127.0.0.1:\(operatorPort)", "--agent-listen", "127.0.0.1:\(agentPort)",
            "--metrics-listen", "127.0.0.1:\(metricsPort)", "--enroll-listen", "127.0.0.1:\(enrollPort)",
            "--ca-cert", pki.file("ca.pem").path, "--ca-key", pki.file("ca-key.pem").path,
            "--tls-cert", pki.file("controller.pem").path, "--tls-key", pki.file("controller-key.pem").path,
            "--client-ca", pki.caBundle, "--trust-domain", pki.trustDomain,
            "--data-dir", directory.path("data-\(name)"), "--database", database,
            "--admin-token-file", tokenFile, "--routing-config", routing,
        ]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()
        return ControllerProcess(name: name, process: process, operatorPort: operatorPort, agentPort: agentPort, metricsPort: metricsPort, log: log)
    }

    /// An agent certificate for `acme/<environment>`, written into the PKI's directory as `agent-acme-<environment>.pem`.
    static func issueAgent(_ pki: TestPKI, environment: String) throws -> TLSFiles {
        let ca = try CertificateAuthority.load(
            certificatePEM: String(contentsOf: pki.file("ca.pem"), encoding: .utf8),
            privateKeyPEM: String(contentsOf: pki.file("ca-key.pem"), encoding: .utf8))
        let key = P256.Signing.PrivateKey()
        let now = Date()
        let certificate = try ca.issueAgentCertificate(
            identity: SPIFFEIdentity(trustDomain: pki.trustDomain, tenant: "acme", environment: environment),
            publicKey: key.publicKey, notBefore: now.addingTimeInterval(-60),
            notAfter: now.addingTimeInterval(3600))
        try key.pemRepresentation.write(to: pki.file("agent-acme-\(environment)-key.pem"), atomically: false, encoding: .utf8)
        try certificate.serializeAsPEM().pemString.write(to: pki.file("agent-acme-\(environment).pem"), atomically: false, encoding: .utf8)
        return pki.agentTLS("acme-\(environment)")
    }

    static func alertName(_ message: SlackAPITestServer.Message) -> String? {
        message.text.firstMatch(of: /Storm-e\d-\d+/).map { String($0.output) }
    }

    @Test func aReplicaKilledDuringAnAlertStormLosesNothingAndNotifiesNothingTwice() async throws {
        let postgres = try await TestPostgres.shared()
        let binary = try Self.controllerBinary()
        let url = try await postgres.createDatabase()
        let pki = try TestPKI()
        let directory = try TemporaryDirectory()
        let environments = (0..<6).map { "e\($0)" }
        let channels = environments.map { "C0STORM\($0.uppercased())" }
        let receiver = try await SlackAPITestServer.start(channels: Set(channels))
        try receiver.token.write(toFile: directory.path("slack-token"), atomically: true, encoding: .utf8)
        // One Slack channel per environment: Slack takes one message a second per channel. Each replica
        // posts under a path of its own, so the test sees which replica posted what.
        func receivers(_ replica: String) -> String {
            zip(environments, channels).map { environment, channel in
                """
                  - name: team-\(environment)
                    slack_configs:
                      - {app_token_file: \(directory.path("slack-token")), app_url: "\(receiver.postMessageURL(via: replica))", channel: \(channel)}
                """
            }.joined(separator: "\n")
        }
        func routing(_ replica: String) throws -> String {
            let path = directory.path("routing-\(replica).yaml")
            try """
            route:
              receiver: team-e0
              group_by: [alertname]
              group_wait: 1s
              group_interval: 1h
              repeat_interval: 1h
              routes:
            \(environments.map { "    - {matchers: [environment=\($0)], receiver: team-\($0)}" }.joined(separator: "\n"))
            receivers:
            \(receivers(replica))
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        var replicas: [ControllerProcess] = []
        var agents: [TestAgent] = []
        var operatorClient: TestHTTPClient?
        let plain = HTTPClient(eventLoopGroupProvider: .singleton)
        defer {
            // Every path: no controller process outlives the test.
            for replica in replicas { replica.kill9() }
            pki.remove()
        }
        do {
            for index in 0..<3 {
                replicas.append(
                    try Self.startController(
                        "replica\(index)", binary: binary, pki: pki, database: "\(url)", routing: try routing("replica\(index)"),
                        directory: directory))
            }
            for replica in replicas {
                try await eventually(timeout: .seconds(60), "\(replica.name) /readyz") {
                    guard replica.process.isRunning else { throw TestServerError.failed("\(replica.name) exited") }
                    let answer = try? await plain.execute(HTTPClientRequest(url: "http://127.0.0.1:\(replica.metricsPort)/readyz"), timeout: .seconds(2))
                    return answer?.status == .ok
                }
            }
            let (victim, survivor) = (replicas[0], replicas[2])
            let operatorTLS = try TLSConfigurations.operatorClient(trustBundle: pki.caBundle)
            let api = TestHTTPClient(baseURL: survivor.operatorURL, tls: operatorTLS)
            operatorClient = api

            // Six environments, two agents starting on each replica (each agent's URL list rotated).
            #expect(try await api.request(.POST, "/v1/tenants", json: #"{"name":"acme"}"#).status == 201)
            for environment in environments {
                let created = try await api.request(
                    .POST, "/v1/tenants/acme/environments",
                    json: #"{"name":"\#(environment)","cloud":"aws","mode":"provided"}"#)
                #expect(created.status == 201)
                #expect(try await api.request(.PUT, "/v1/tenants/acme/environments/\(environment)/workspaces/analytics", json: #"{"spec":{}}"#).status == 201)
            }
            for (index, environment) in environments.enumerated() {
                let urls = (0..<3).map { replicas[(index + $0) % 3].agentURL }
                agents.append(
                    try TestAgent.start(
                        tls: try Self.issueAgent(pki, environment: environment), controllerURLs: urls,
                        stateDirectory: directory.path("agent-\(environment)")))
            }
            for agent in agents {
                try await eventually(timeout: .seconds(30), "every agent connected") { await agent.service.desired != nil }
            }
            let fleet = agents
            let onVictim = fleet.indices.filter { agents[$0].service.client.urls.current.url == victim.agentURL }
            #expect(onVictim == [0, 3])

            // The storm: each agent enqueues 30 alerts (distinct names), one batch each, paced over about
            // two and a half seconds. The victim dies once notifications are flowing and its agents' alerts
            // are being stored, the storm still going.
            let perAgent = 30
            @Sendable func name(_ agent: Int, _ index: Int) -> String { "Storm-\(environments[agent])-\(index)" }
            let enqueued = Counter()
            let storm = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (index, agent) in fleet.enumerated() {
                        group.addTask {
                            for n in 0..<perAgent {
                                try await agent.service.outbox.enqueue([
                                    AgentAlert(
                                        workspace: "analytics", state: .firing, labels: ["alertname": name(index, n), "severity": "critical"],
                                        annotations: [:], startsAt: Date())
                                ])
                                enqueued.add()
                                try await Task.sleep(for: .milliseconds(80))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            @Sendable func storedNames() async throws -> Set<String> {
                let answer = try await api.request(.GET, "/v1/alerts?tenant=acme")
                guard answer.status == 200 else { return [] }
                return Set(try answer.decode(ListResponse<StoredAlert>.self).items.compactMap { $0.labels["alertname"] })
            }
            try await eventually(timeout: .seconds(30), "notifications flowing and the victim's agents' alerts stored") {
                guard !receiver.messages.isEmpty else { return false }
                return try await storedNames().contains { $0.hasPrefix("Storm-e0-") || $0.hasPrefix("Storm-e3-") }
            }
            // Slack goes on posting but answers late: the victim dies with posts made that it never heard about.
            receiver.stallAnswers(seconds: 4)
            let postedBeforeStall = receiver.messages.count
            try await eventually(timeout: .seconds(10), "a post by the victim that Slack holds the answer to") {
                receiver.messages.dropFirst(postedBeforeStall).contains { $0.via == victim.name }
            }
            victim.kill9()
            let unanswered = receiver.messages.dropFirst(postedBeforeStall).filter { $0.via == victim.name }
                .compactMap { $0.metadata?["event_payload"]?["delivery_key"]?.stringValue }
            receiver.stallAnswers(seconds: nil)
            let (enqueuedAtKill, notifiedAtKill) = (enqueued.value, receiver.messages.count)
            let storedAtKill = try await storedNames()
            try await storm.value
            let expected = Set(fleet.indices.flatMap { agent in (0..<perAgent).map { name(agent, $0) } })
            // A notification the victim had claimed waits out its lease (30 s) first.
            try await eventually(timeout: .seconds(120), "every alert stored") { try await storedNames() == expected }
            for index in onVictim {
                #expect(fleet[index].service.client.urls.current.url != victim.agentURL, "agent \(index) moved to another replica")
                #expect(await fleet[index].service.outbox.count == 0)
            }
            try await eventually(timeout: .seconds(180), "a Slack message for every alert group") {
                Set(receiver.messages.compactMap(Self.alertName)).isSuperset(of: expected)
            }
            // Every notification recorded as sent: none is left for a lease to run out and be sent again.
            try await eventually(timeout: .seconds(120), "every notification recorded as sent") {
                let answer = try await api.request(.GET, "/v1/notifications?limit=1000")
                guard answer.status == 200 else { return false }
                let records = try answer.decode(ListResponse<NotificationRecord>.self).items
                return records.count >= expected.count && records.allSatisfy { $0.state == .sent }
            }
            // The survivors keep flushing and delivering a little longer: nothing more arrives.
            try await Task.sleep(for: .seconds(3))
            let messages = receiver.messages
            let sent = messages.compactMap(Self.alertName)
            let twice = Dictionary(sent.map { ($0, 1) }, uniquingKeysWith: +).filter { $0.value > 1 }
            #expect(Set(sent) == expected)
            #expect(twice.isEmpty, "notified more than once: \(twice.sorted { $0.key < $1.key })")
            let keys = messages.compactMap { $0.metadata?["event_payload"]?["delivery_key"]?.stringValue }
            #expect(keys.count == messages.count && Set(keys).count == keys.count, "one message per delivery key")
            // The channel each group went to is its environment's.
            #expect(
                messages.allSatisfy { message in Self.alertName(message).map { message.channel == "C0STORM" + $0.dropFirst(6).prefix(2).uppercased() } ?? false
                })
            let records = try await api.request(.GET, "/v1/notifications?limit=1000").decode(ListResponse<NotificationRecord>.self).items
            #expect(records.count == expected.count, "one notification per group")
            print(
                "replica failover: when \(victim.name) was killed \(enqueuedAtKill) of \(expected.count) alerts were enqueued, "
                    + "\(storedAtKill.count) stored, \(notifiedAtKill) posted (\(notifiedAtKill - postedBeforeStall) while Slack held its answers); "
                    + "\(records.filter { $0.attempts > 1 }.count) notifications needed more than one attempt, "
                    + "\(receiver.historyCalls) history lookups; \(messages.count) messages for \(expected.count) groups")
            // The victim's posts that Slack made but never answered: another replica found each in the
            // channel instead of posting it again (each key once, checked above, and no duplicate group).
            let survivorLogs = replicas.dropFirst().map { (try? String(contentsOfFile: $0.log, encoding: .utf8)) ?? "" }.joined()
            let found = survivorLogs.components(separatedBy: "had reached the Slack channel").count - 1
            #expect(!unanswered.isEmpty && found >= unanswered.count, "\(unanswered.count) unanswered posts by the victim, \(found) found in the channel")
            print(
                "replica failover: the victim died with \(unanswered.count) posts Slack had made unanswered; the survivors found \(found) in the channel, "
                    + "posted \(survivorLogs.components(separatedBy: "did not reach the Slack channel").count - 1) that were not")
            for replica in replicas.dropFirst() { #expect(replica.process.isRunning, "\(replica.name) still running") }
        } catch {
            let logs = replicas.map(\.logTail).joined(separator: "\n")
            Issue.record("\(error)\n\(logs)")
            for agent in agents { try? await agent.stop() }
            try? await operatorClient?.shutdown()
            try? await plain.shutdown()
            try? await receiver.stop()
            await postgres.dropDatabase(url)
            directory.remove()
            throw error
        }
        for agent in agents { try await agent.stop() }
        try await operatorClient?.shutdown()
        try await plain.shutdown()
        try await receiver.stop()
        for replica in replicas { replica.kill9() }
        await postgres.dropDatabase(url)
        directory.remove()
    }
}

/// A count shared between the storm's tasks and the test.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
