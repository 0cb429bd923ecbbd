import ControllerModel
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import ServiceSupport
import SplitPlaneProtocol

/// The agent side of the wire protocol. Every handler acts only on the environment named by the
/// caller's certificate; nothing in a path, query or body can point it elsewhere.
struct AgentGatewayRoutes {
    typealias Context = AgentRequestContext

    let store: (any FleetStore & AlertingStore & IdentityStore & AuditStore)
    let notifier: DesiredStateNotifier
    let cache: GatewayCache
    let heartbeats: HeartbeatCoalescer
    let dispatcher: AlertDispatcher
    let issuer: AgentCertificateIssuer?
    let clock: any TimeSource
    let bodyLimit: Int
    /// Longest a long poll may be held, whatever the agent asks for.
    let maxPollTimeout: Duration
    /// Agents per second the controller asks to come back at after a shutdown.
    let reconnectPace: Int
    let alertLimits: AlertLimits
    let supportAccess = SupportAccessAuditor()

    func register(on group: RouterGroup<Context>) {
        group.get("desired", use: desired)
        group.get("components/:hash", use: component)
        group.put("status", use: status)
        group.post("alerts", use: alerts)
        group.post("certificate", use: renew)
    }

    /// `GET /agent/v1/desired?after=<revision>&timeout=<seconds>`: answers as soon as the environment's
    /// revision passes `after`, or with the unchanged state when the timeout ends.
    @Sendable func desired(_ request: Request, context: Context) async throws -> Response {
        let identity = try requireIdentity(context)
        let query = request.uri.queryParameters
        let after: Int64
        if let text = query["after"] {
            guard let value = Int64(text), value >= 0 else {
                throw APIProblem(.badRequest, "after: \"\(text)\" is not a non-negative revision number")
            }
            after = value
        } else {
            after = 0
        }
        var timeout = maxPollTimeout
        if let text = query["timeout"] {
            guard let seconds = Int(text), seconds >= 0 else {
                throw APIProblem(.badRequest, "timeout: \"\(text)\" is not a whole number of seconds")
            }
            timeout = min(.seconds(seconds), maxPollTimeout)
        }

        let store = self.store
        let key = GatewayCache.Key(tenant: identity.tenant, environment: identity.environment)
        let load = { try await store.desiredState(tenant: identity.tenant, environment: identity.environment) }
        guard let revision = try await cache.desiredState(key, load: load)?.revision else {
            throw APIProblem(.forbidden, "environment \(identity.tenant)/\(identity.environment) no longer exists")
        }
        if revision <= after && timeout > .zero {
            Metrics.Gauge(label: "qbeast_controller_long_polls_waiting").record(await notifier.waiterCount + 1)
            let key = identity.notifierKey
            let notifier = self.notifier
            let clock = self.clock
            let pollTimeout = timeout
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await notifier.wait(key, after: after) }
                group.addTask { try? await clock.sleep(for: pollTimeout) }
                await group.next()
                group.cancelAll()
            }
            if await notifier.isShuttingDown { throw await comeBackLater() }
            let certificate = GatewayCache.RevocationKey(serial: identity.certificateSerial, notBefore: identity.certificateNotBefore)
            if let reason = try await cache.revocation(
                GatewayCache.Key(tenant: identity.tenant, environment: identity.environment), certificate,
                load: {
                    try await store.revocation(
                        serial: certificate.serial, tenant: identity.tenant, environment: identity.environment,
                        notBefore: certificate.notBefore)
                })
            {
                throw APIProblem(.forbidden, reason)
            }
        }
        // One encoding per revision (and trust bundle) serves every poll that asks for it.
        let (trustBundle, alertLimits) = (issuer?.currentTrustBundle(), self.alertLimits)
        guard
            let answer = try await cache.answer(
                key, trustBundle: trustBundle, load: load,
                encode: { state in
                    var state = state
                    state.trustBundle = trustBundle
                    state.alertLimits = alertLimits
                    return try JSONBodies.encoded(state)
                })
        else {
            throw APIProblem(.forbidden, "environment \(identity.tenant)/\(identity.environment) no longer exists")
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json", HTTPField.Name("Qbeast-Revision")!: String(answer.revision)],
            body: .init(byteBuffer: answer.body))
    }

    /// Shutting down: the agent is told when to come back (`503` with `Retry-After`), each a random second
    /// of a window long enough for every waiting agent to return at `reconnectPace`, so the next
    /// process is not met by all of them at once and no agent backs off as if something failed.
    private func comeBackLater() async -> APIProblem {
        let window = min(max(await notifier.waitingAtShutdown / max(reconnectPace, 1), 1), 60)
        var problem = APIProblem(.serviceUnavailable, "the controller is restarting; poll again after the time in Retry-After")
        problem.headers[.retryAfter] = String(Int.random(in: 1...window))
        return problem
    }

    /// `GET /agent/v1/components/{hash}`: a resolved component of one of the caller's own workspaces.
    /// Content-addressed, so it never changes: `ETag` is the hash and caches may keep it for good.
    @Sendable func component(_ request: Request, context: Context) async throws -> Response {
        let identity = try requireIdentity(context)
        let raw = context.parameters.get("hash") ?? ""
        let hash = raw.removingPercentEncoding ?? raw
        guard ResolvedComponent.isContentHash(hash) else {
            throw APIProblem(.badRequest, "hash: \"\(hash.prefix(80))\" is not sha256: followed by 64 lowercase hexadecimal digits")
        }
        guard let component = try await store.resolvedComponent(tenant: identity.tenant, environment: identity.environment, hash: hash) else {
            throw APIProblem(.notFound, "no workspace of \(identity.tenant)/\(identity.environment) has a component \(hash)")
        }
        let headers: HTTPFields = [.eTag: "\"\(hash)\"", .cacheControl: "private, max-age=31536000, immutable"]
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == "\"\(hash)\"" })
        {
            return Response(status: .notModified, headers: headers)
        }
        return try JSONBodies.response(component, headers: headers)
    }

    @Sendable func status(_ request: Request, context: Context) async throws -> Response {
        let identity = try requireIdentity(context)
        let body = try await JSONBodies.collect(from: request, limit: bodyLimit)
        Counter(label: "qbeast_controller_agent_bytes_received_total", dimensions: [("kind", "status")]).increment(by: Int64(body.count))
        let (key, now) = (GatewayCache.Key(tenant: identity.tenant, environment: identity.environment), clock.now())
        if heartbeats.unchangedBody(key, connection: identity.connection, body: body, at: now) { return Response(status: .noContent) }
        let report = try StrictJSON.decodeClosed(StatusReport.self, from: body)
        try report.validate()
        if heartbeats.mustWrite(key, connection: identity.connection, report: report, at: now) {
            await supportAccess.record(
                report, tenant: identity.tenant, environment: identity.environment, store: store, at: now, logger: context.logger)
            try await store.recordStatus(tenant: identity.tenant, environment: identity.environment, report: report, at: now)
            heartbeats.written(key, connection: identity.connection, report: report, body: body, at: now)
        }
        return Response(status: .noContent)
    }

    @Sendable func alerts(_ request: Request, context: Context) async throws -> Response {
        let identity = try requireIdentity(context)
        var batch = try await JSONBodies.decode(AlertBatch.self, from: request, limit: bodyLimit)
        try batch.validate(limits: alertLimits)
        Counter(label: "qbeast_controller_agent_bytes_received_total", dimensions: [("kind", "alerts")])
            .increment(by: Int64(request.headers[.contentLength].flatMap(Int64.init) ?? 0))
        // Alerts of workspaces the environment does not have are not kept: the batch is still
        // acknowledged (so the agent's outbox moves on) and the receipt says how many were refused.
        let known = try await store.workspaceNames(tenant: identity.tenant, environment: identity.environment)
        let unknown = batch.alerts.filter { !known.contains($0.workspace) }
        if !unknown.isEmpty {
            batch.alerts.removeAll { !known.contains($0.workspace) }
            Counter(label: "qbeast_controller_alerts_refused_total", dimensions: [("reason", "unknown_workspace")]).increment(by: Int64(unknown.count))
            context.logger.warning(
                "alerts for workspaces the environment does not have were not stored",
                metadata: ["count": "\(unknown.count)", "workspaces": "\(Set(unknown.map(\.workspace)).sorted())"])
        }
        let stored = try await store.recordAlertBatch(
            tenant: identity.tenant, environment: identity.environment, batch: batch, at: clock.now(),
            assign: dispatcher.assign)
        if stored {
            dispatcher.alertsArrived()
            Counter(label: "qbeast_controller_alerts_received_total").increment(by: Int64(batch.alerts.count))
            if let dropped = batch.droppedBatches, dropped > 0 {
                context.logger.warning("agent outbox dropped alert batches", metadata: ["dropped": "\(dropped)", "instance": "\(batch.instance)"])
            }
        }
        return try JSONBodies.response(AlertBatchReceipt(sequence: batch.sequence, duplicate: !stored, refused: unknown.isEmpty ? nil : unknown.count))
    }

    /// `POST /agent/v1/certificate`: a new certificate for a new key, for the identity of the
    /// certificate this connection was made with (never one the CSR asks for).
    @Sendable func renew(_ request: Request, context: Context) async throws -> Response {
        let identity = try requireIdentity(context)
        guard let issuer else { throw APIProblem(.notFound, "this controller has no issuing CA configured (--ca-key); renewal is not available") }
        let body = try await JSONBodies.decode(RenewalRequest.self, from: request, limit: 64 * 1024)
        // Every kind the agent sends is counted, so both sides of the boundary reconcile (the agent's
        // qbeast_agent_bytes_sent_total and egress journal use the same kinds).
        Counter(label: "qbeast_controller_agent_bytes_received_total", dimensions: [("kind", "certificate")])
            .increment(by: Int64(request.headers[.contentLength].flatMap(Int64.init) ?? 0))
        try body.validate()
        let target = "\(identity.tenant)/\(identity.environment)"
        let certificate = try issuer.sign(csr: body.csr, tenant: identity.tenant, environment: identity.environment, at: clock.now())
        let issued = try await issuer.record(
            certificate, tenant: identity.tenant, environment: identity.environment, method: "renewal",
            store: store, at: clock.now())
        do {
            try await store.audit(
                AuditEntry(
                    at: clock.now(), actor: "agent:\(target)", action: "renew", target: target, result: "issued",
                    address: (context.channel.remoteAddress ?? context.channel.parent?.remoteAddress)?.ipAddress,
                    detail: "serial=\(issued.serial) replaces=\(identity.certificateSerial)"))
        } catch {
            context.logger.error("cannot write the audit record", metadata: ["action": "renew", "target": "\(target)", "error": "\(error)"])
        }
        return try JSONBodies.response(issued, status: .created)
    }

    private func requireIdentity(_ context: Context) throws -> AgentIdentity {
        guard let identity = context.identity else { throw APIProblem(.unauthorized, "no verified agent identity") }
        return identity
    }
}
