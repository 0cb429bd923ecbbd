import AlertRouting
import Controller
import ControllerModel
import Foundation
import Logging
import PostgresDriver
import SQLStorage
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting
import Synchronization
import Testing

/// Several controller replicas on one PostgreSQL database (a throwaway server from `TestPostgres`):
/// migrations from replicas starting at once, notification claims and lease take-over, long polls
/// woken across replicas, and an alert storm notified exactly once.
@Suite struct PostgresReplicaTests {
    static let quiet = Logger(label: "replica-test", factory: { _ in SwiftLogNoOpLogHandler() })

    func database(_ body: (PostgresURL) async throws -> Void) async throws {
        let server = try await TestPostgres.shared()
        let url = try await server.createDatabase()
        do {
            try await body(url)
            await server.dropDatabase(url)
        } catch {
            await server.dropDatabase(url)
            // PSQLError's description is deliberately vague; the test report needs the server's message.
            Issue.record("\(String(reflecting: error))")
            throw error
        }
    }

    @Test func replicasStartingAtOnceMigrateOnce() async throws {
        try await database { url in
            let stores = try await withThrowingTaskGroup(of: SQLStore.self) { group in
                for _ in 0..<4 { group.addTask { try await SQLStore.postgres(url, logger: Self.quiet, maximumConnections: 2) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let versions = try await TestPostgres.shared().withConnection(database: url.database) { connection in
                try await connection.query("SELECT version FROM schema_migrations ORDER BY version", logger: Self.quiet)
                    .collect().map { try $0.decode(String.self) }
            }
            #expect(versions == PostgresMigrations.migrations.map(\.version), "each migration once, none missing")
            _ = try await stores[0].createTenant(TenantRequest(name: "acme"), at: Date())
            #expect(try await stores[3].tenants().map(\.name) == ["acme"])
            for store in stores { await store.close() }
        }
    }

    @Test func aClaimedNotificationIsSentByOneReplicaAndTakenOverWhenItsLeaseRunsOut() async throws {
        try await database { url in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let routing = directory.path("routing.yaml")
            try """
            route:
              receiver: hook
              group_wait: 0s
            receivers:
              - name: hook
                webhook_configs:
                  - url: http://127.0.0.1:9/hook
            """.write(toFile: routing, atomically: true, encoding: .utf8)
            let clock = ManualTimeSource()
            let a = try await SQLStore.postgres(url, logger: Self.quiet, replicaID: "a", leaseDuration: 60, maximumConnections: 2)
            let b = try await SQLStore.postgres(url, logger: Self.quiet, replicaID: "b", leaseDuration: 60, maximumConnections: 2)
            let dispatcher = AlertDispatcher(
                store: a, configSource: try RoutingConfigSource.load(path: routing, at: clock.now()), clock: clock, logger: Self.quiet)
            _ = try await a.createTenant(TenantRequest(name: "acme"), at: clock.now())
            _ = try await a.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: clock.now())
            let alert = AgentAlert(workspace: "analytics", state: .firing, labels: ["alertname": "Down"], annotations: [:], startsAt: clock.now())
            _ = try await a.recordAlertBatch(
                tenant: "acme", environment: "prod", batch: AlertBatch(instance: "i", sequence: 1, alerts: [alert]),
                at: clock.now(), assign: dispatcher.assign)
            #expect(try await dispatcher.flushDue() == 1)
            // Both replicas flushing the same due group: the second finds it no longer due.
            let otherDispatcher = AlertDispatcher(store: b, configSource: dispatcher.configSource, clock: clock, logger: Self.quiet)
            _ = try await otherDispatcher.flushDue()
            #expect(try await a.notifications(groupID: nil, limit: 10).count == 1)

            async let claimedByA = a.dueNotifications(at: clock.now(), limit: 10)
            async let claimedByB = b.dueNotifications(at: clock.now(), limit: 10)
            let claims = try await (claimedByA, claimedByB)
            #expect(claims.0.count + claims.1.count == 1, "exactly one replica claims it")
            let (holder, other) = claims.0.isEmpty ? (b, a) : (a, b)
            #expect(try await other.dueNotifications(at: clock.now().addingTimeInterval(59), limit: 10).isEmpty, "the lease holds")
            #expect(try await other.nextNotificationAttempt() == clock.now().addingTimeInterval(60))
            // The holder dies without recording an outcome: once the lease runs out the other takes it over.
            // The holder wrote down its attempt (which renews the lease) before its request went out, then went quiet.
            #expect(try await holder.beginDeliveryAttempt(id: claims.0.first?.id ?? claims.1[0].id, at: clock.now().addingTimeInterval(10)))
            #expect(try await other.dueNotifications(at: clock.now().addingTimeInterval(60), limit: 10).isEmpty, "the attempt renewed the lease")
            let takenOver = try await other.dueNotifications(at: clock.now().addingTimeInterval(70), limit: 10)
            #expect(takenOver.count == 1)
            #expect(takenOver.first?.unrecordedAttemptAt == clock.now().addingTimeInterval(10), "the taker knows the receiver may have it")
            // The fence: the old holder, back, may no longer send; nor may it renew what it lost.
            try await holder.renewDeliveryLeases(at: clock.now().addingTimeInterval(71))
            #expect(try await holder.beginDeliveryAttempt(id: takenOver[0].id, at: clock.now().addingTimeInterval(71)) == false)
            // Nor record a late answer: it would clear the mark (and the claim) under the new holder.
            try await holder.recordDelivery(id: takenOver[0].id, .retry(at: clock.now(), error: "late answer"), at: clock.now().addingTimeInterval(71))
            #expect(try await a.notifications(groupID: nil, limit: 10).first?.lastError != "late answer")
            #expect(try await other.dueNotifications(at: clock.now().addingTimeInterval(72), limit: 10).isEmpty, "still claimed by the new holder")
            #expect(try await other.beginDeliveryAttempt(id: takenOver[0].id, at: clock.now().addingTimeInterval(71)))
            try await other.renewDeliveryLeases(at: clock.now().addingTimeInterval(120))
            #expect(try await holder.dueNotifications(at: clock.now().addingTimeInterval(179), limit: 10).isEmpty, "renewed until 180 s")
            try await other.recordDelivery(id: takenOver[0].id, .sent, at: clock.now().addingTimeInterval(121))
            #expect(try await holder.dueNotifications(at: clock.now().addingTimeInterval(600), limit: 10).isEmpty)
            #expect(try await a.notifications(groupID: nil, limit: 10).map(\.state) == [.sent])
            #expect(try await a.nextNotificationAttempt() == nil)
            await a.close()
            await b.close()
        }
    }

    /// Two `ControllerServer`s (in process) on one database, each with its own listeners, dispatcher and delivery loop.
    struct Replicas {
        let pki: TestPKI
        let a: TestController
        let b: TestController
        let operatorA: TestHTTPClient
    }

    func withReplicas(routingConfigPath: String? = nil, _ body: (Replicas) async throws -> Void) async throws {
        try await database { url in
            let pki = try TestPKI()
            defer { pki.remove() }
            let a = try await TestController.start(pki: pki, databasePath: "\(url)", maxPollTimeout: .seconds(60), routingConfigPath: routingConfigPath)
            let b = try await TestController.start(pki: pki, databasePath: "\(url)", maxPollTimeout: .seconds(60), routingConfigPath: routingConfigPath)
            let operatorA = try TestHTTPClient.operatorClient(a, pki: pki)
            let replicas = Replicas(pki: pki, a: a, b: b, operatorA: operatorA)
            do {
                try await eventually("both replicas listen for each other's changes") {
                    a.server.readiness.problems == nil && b.server.readiness.problems == nil
                }
                try await body(replicas)
            } catch {
                try? await operatorA.shutdown()
                try? await a.stop()
                try? await b.stop()
                throw error
            }
            try await operatorA.shutdown()
            try await a.stop()
            try await b.stop()
        }
    }

    @Test func aWorkspacePutThroughOneReplicaWakesALongPollOnTheOther() async throws {
        try await withReplicas { replicas in
            _ = try await replicas.operatorA.request(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
            _ = try await replicas.operatorA.request(.POST, "/v1/tenants/acme/environments", json: #"{"name":"prod","cloud":"aws","mode":"provided"}"#)
            let agent = TestHTTPClient(baseURL: replicas.b.agentURL, tls: try TLSConfigurations.agentClient(replicas.pki.agentTLS("acme-prod")))
            let current = try await agent.request(.GET, "/agent/v1/desired?after=0", token: nil).decode(DesiredState.self)
            async let next = agent.request(.GET, "/agent/v1/desired?after=\(current.revision)&timeout=60", token: nil)
            try await eventually("long poll held by replica B") { await replicas.b.server.notifier.waiterCount == 1 }
            let applied = try await replicas.operatorA.request(
                .PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics",
                json: #"{"spec":{"components":[]}}"#)
            // Measured from the PUT's answer (the change committed by then), not from its start: the
            // request itself (TLS, routing) takes its own time on a loaded machine.
            let committed = ContinuousClock.now
            #expect(applied.status == 201)
            let answer = try await next.decode(DesiredState.self)
            let waited = ContinuousClock.now - committed
            #expect(answer.revision > current.revision)
            #expect(answer.workspaces.map(\.name) == ["analytics"])
            #expect(waited < .seconds(1), "woken through NOTIFY within a second of the commit (took \(waited))")
            try await agent.shutdown()
        }
    }

    @Test func aRevocationThroughOneReplicaEndsALongPollOnTheOther() async throws {
        try await withReplicas { replicas in
            _ = try await replicas.operatorA.request(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
            _ = try await replicas.operatorA.request(.POST, "/v1/tenants/acme/environments", json: #"{"name":"prod","cloud":"aws","mode":"provided"}"#)
            let agent = TestHTTPClient(baseURL: replicas.b.agentURL, tls: try TLSConfigurations.agentClient(replicas.pki.agentTLS("acme-prod")))
            let current = try await agent.request(.GET, "/agent/v1/desired?after=0", token: nil).decode(DesiredState.self)
            async let next = agent.request(.GET, "/agent/v1/desired?after=\(current.revision)&timeout=60", token: nil)
            try await eventually("long poll held by replica B") { await replicas.b.server.notifier.waiterCount == 1 }
            let started = ContinuousClock.now
            let revoked = try await replicas.operatorA.request(.POST, "/v1/tenants/acme/environments/prod/revoke")
            #expect(revoked.status < 300)
            let answer = try await next
            #expect(answer.status != 200, "a revoked environment's agent is refused (\(answer.status))")
            #expect(ContinuousClock.now - started < .seconds(5), "the held poll re-checked its caller at once")
            try await agent.shutdown()
        }
    }

    @Test func anAlertStormThroughBothReplicasIsNotifiedExactlyOnce() async throws {
        let receiver = try await WebhookTestServer.start()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let routing = directory.path("routing.yaml")
        try """
        route:
          receiver: hook
          group_by: [alertname]
          group_wait: 0s
          group_interval: 1h
          repeat_interval: 1h
        receivers:
          - name: hook
            webhook_configs:
              - url: \(receiver.url("/hook"))
        """.write(toFile: routing, atomically: true, encoding: .utf8)
        do {
            try await withReplicas(routingConfigPath: routing) { replicas in
                _ = try await replicas.operatorA.request(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
                _ = try await replicas.operatorA.request(.POST, "/v1/tenants/acme/environments", json: #"{"name":"prod","cloud":"aws","mode":"provided"}"#)
                _ = try await replicas.operatorA.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: #"{"spec":{}}"#)
                let tls = try TLSConfigurations.agentClient(replicas.pki.agentTLS("acme-prod"))
                let agents = [TestHTTPClient(baseURL: replicas.a.agentURL, tls: tls), TestHTTPClient(baseURL: replicas.b.agentURL, tls: tls)]
                let names = (0..<60).map { "Storm\($0)" }
                // Ten batches of six alert names, alternately to each replica, all at once.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for batch in 0..<10 {
                        let alerts = names[(batch * 6)..<(batch * 6 + 6)].map {
                            AgentAlert(
                                workspace: "analytics", state: .firing, labels: ["alertname": $0, "severity": "critical"], annotations: [:],
                                startsAt: Date())
                        }
                        let agent = agents[batch % 2]
                        group.addTask {
                            let answer = try await agent.request(
                                .POST, "/agent/v1/alerts",
                                encoding: AlertBatch(instance: "i-1", sequence: Int64(batch + 1), alerts: alerts), token: nil)
                            #expect(answer.status == 200)
                        }
                    }
                    try await group.waitForAll()
                }
                try await eventually(timeout: .seconds(20), "a notification for every alert name") {
                    Set(receiver.received.filter { $0.path == "/hook" }.compactMap(Self.alertName)).count == names.count
                }
                // Both loops keep running a while: nothing is sent twice.
                try await Task.sleep(for: .seconds(3))
                let sent = receiver.received.filter { $0.path == "/hook" }.compactMap(Self.alertName)
                #expect(sent.count == names.count, "each group notified exactly once, got \(sent.count) messages")
                #expect(Set(sent) == Set(names))
                let records = try await replicas.a.server.store.notifications(groupID: nil, limit: 500)
                #expect(records.count == names.count && records.allSatisfy { $0.state == .sent && $0.attempts == 1 })
                for agent in agents { try await agent.shutdown() }
            }
        } catch {
            try? await receiver.stop()
            throw error
        }
        try await receiver.stop()
    }

    static func alertName(_ message: WebhookTestServer.Received) -> String? {
        message.json?["groupLabels"]?["alertname"]?.stringValue
    }
}

extension PostgresReplicaTests {
    /// Two replicas writing the same environment and the same alert groups at once: every write lands,
    /// revisions stay distinct and increasing, nothing deadlocks for good.
    @Test func concurrentWritesThroughTwoReplicas() async throws {
        try await database { url in
            let a = try await SQLStore.postgres(url, logger: Self.quiet, maximumConnections: 4)
            let b = try await SQLStore.postgres(url, logger: Self.quiet, maximumConnections: 4)
            let now = Date()
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try "route:\n  receiver: none\n  group_by: [alertname]\nreceivers:\n  - name: none\n".write(
                toFile: directory.path("routing.yaml"), atomically: true,
                encoding: .utf8)
            let assign = AlertDispatcher(
                store: a, configSource: try RoutingConfigSource.load(path: directory.path("routing.yaml"), at: now), clock: SystemTimeSource(),
                logger: Self.quiet
            ).assign
            _ = try await a.createTenant(TenantRequest(name: "acme"), at: now)
            _ = try await a.createEnvironment(tenant: "acme", EnvironmentRequest(name: "prod", cloud: .aws, mode: .provided), at: now)
            let revisions = try await withThrowingTaskGroup(of: Int64?.self) { group in
                for index in 0..<20 {
                    let store = index % 2 == 0 ? a : b
                    group.addTask {
                        let component = try ResolvedComponent(
                            name: "mcp",
                            manifests: [
                                [
                                    "apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": ["name": "mcp"], "data": ["i": .string("\(index)")],
                                ]
                            ])
                        return try await store.applyWorkspace(
                            tenant: "acme", environment: "prod", name: "w\(index % 5)",
                            spec: WorkspaceSpec(components: []), components: [component],
                            resolvedFor: EnvironmentSettings(), at: now
                        ).revision
                    }
                    group.addTask {
                        let alerts = ["A", "B", "C"].shuffled().map {
                            AgentAlert(workspace: "w0", state: .firing, labels: ["alertname": $0], annotations: [:], startsAt: now)
                        }
                        _ = try await store.recordAlertBatch(
                            tenant: "acme", environment: "prod",
                            batch: AlertBatch(instance: "i", sequence: Int64(index), alerts: alerts),
                            at: now, assign: assign)
                        return nil
                    }
                }
                return try await group.reduce(into: [Int64]()) { if let revision = $1 { $0.append(revision) } }
            }
            #expect(revisions.count == 20 && Set(revisions).count == 20, "every change got a revision of its own")
            let desired = try #require(try await b.desiredState(tenant: "acme", environment: "prod"))
            #expect(desired.revision == revisions.max())
            #expect(desired.workspaces.map(\.name) == ["w0", "w1", "w2", "w3", "w4"])
            #expect(try await a.alerts(AlertFilter()).count == 3)
            #expect(try await a.alertGroups(tenant: nil, at: now).count == 3, "one group per alert name, each created once")
            // The server's statistics (flushed by each backend within a second) count deadlocks it broke.
            try await Task.sleep(for: .seconds(1.5))
            let deadlocks = try await TestPostgres.shared().withConnection(database: url.database) { connection in
                try await connection.query("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()", logger: Self.quiet)
                    .collect().first?.decode(Int64.self)
            }
            #expect(deadlocks == 0, "replicas take row locks in one order")
            await a.close()
            await b.close()
        }
    }
}

extension PostgresReplicaTests {
    /// The database drops the replicas' LISTEN connections: each subscribes again, wakes the polls it
    /// held (a change may have gone unheard meanwhile), and changes reach it again afterwards.
    @Test func aLostChangeFeedIsResubscribedAndHeldPollsLookAgain() async throws {
        try await withReplicas { replicas in
            _ = try await replicas.operatorA.request(.POST, "/v1/tenants", json: #"{"name":"acme"}"#)
            _ = try await replicas.operatorA.request(.POST, "/v1/tenants/acme/environments", json: #"{"name":"prod","cloud":"aws","mode":"provided"}"#)
            let agent = TestHTTPClient(baseURL: replicas.b.agentURL, tls: try TLSConfigurations.agentClient(replicas.pki.agentTLS("acme-prod")))
            let current = try await agent.request(.GET, "/agent/v1/desired?after=0", token: nil).decode(DesiredState.self)
            async let held = agent.request(.GET, "/agent/v1/desired?after=\(current.revision)&timeout=60", token: nil)
            try await eventually("long poll held by replica B") { await replicas.b.server.notifier.waiterCount == 1 }
            let database = try PostgresURL(replicas.b.server.configuration.databasePath).database
            let terminated = try await TestPostgres.shared().withConnection(database: "postgres") { connection in
                try await connection.query(
                    """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(database) AND query LIKE 'LISTEN%'
                    """, logger: Self.quiet
                ).collect().count
            }
            #expect(terminated == 2, "one listening connection per replica")
            let woken = try await held.decode(DesiredState.self)
            #expect(woken.revision == current.revision, "the held poll answered after the feed came back")
            try await eventually("both replicas listen again") {
                replicas.a.server.readiness.problems == nil && replicas.b.server.readiness.problems == nil
            }
            async let next = agent.request(.GET, "/agent/v1/desired?after=\(current.revision)&timeout=60", token: nil)
            try await eventually("long poll held by replica B again") { await replicas.b.server.notifier.waiterCount == 1 }
            _ = try await replicas.operatorA.request(.PUT, "/v1/tenants/acme/environments/prod/workspaces/analytics", json: #"{"spec":{"components":[]}}"#)
            let committed = ContinuousClock.now
            let answer = try await next.decode(DesiredState.self)
            #expect(answer.revision > current.revision)
            #expect(ContinuousClock.now - committed < .seconds(1))
            try await agent.shutdown()
        }
    }
}
