import ControllerModel
import Hummingbird
import NIOCore
import NIOSSL
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS
import X509

/// Derives tenant and environment from the client certificate the TLS handshake already verified
/// against the CA, and refuses identities of other trust domains, of environments the controller
/// does not (or no longer) know, and revoked certificates — on every request, so a revocation holds
/// for connections opened before it.
struct AgentIdentityMiddleware: RouterMiddleware {
    typealias Context = AgentRequestContext

    let trustDomain: String
    let store: (any IdentityStore & FleetStore & AuditStore)
    let clock: any TimeSource
    /// Desired states (an environment exists while it has one) and revocation verdicts in memory.
    let cache: GatewayCache
    /// Each connection's certificate, parsed at its handshake.
    var peers: PeerCertificates?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let known = peers?.peer(for: context.channel)
        let certificate = if let known { known.certificate } else { try await Self.peerCertificate(context.channel) }
        let identity: SPIFFEIdentity
        do {
            identity = try certificate.agentIdentity()
        } catch {
            // Only our CA's certificates get this far: a malformed identity is worth an audit line.
            throw await refuse(certificate, context: context, "\(error.reason)")
        }
        guard identity.trustDomain == trustDomain else {
            throw await refuse(
                certificate, context: context,
                "the client certificate belongs to trust domain \"\(identity.trustDomain)\", not \"\(trustDomain)\"")
        }
        let (store, key) = (store, GatewayCache.Key(tenant: identity.tenant, environment: identity.environment))
        guard try await cache.desiredState(key, load: { try await store.desiredState(tenant: identity.tenant, environment: identity.environment) }) != nil
        else {
            throw APIProblem(.forbidden, "environment \(identity.tenant)/\(identity.environment) is not registered with this controller")
        }
        let (serial, notBefore) = (certificate.serialHex, certificate.notValidBefore)
        if let reason = try await cache.revocation(
            key, .init(serial: serial, notBefore: notBefore),
            load: {
                try await store.revocation(serial: serial, tenant: identity.tenant, environment: identity.environment, notBefore: notBefore)
            })
        {
            throw APIProblem(.forbidden, reason)
        }
        context.identity = AgentIdentity(
            tenant: identity.tenant, environment: identity.environment,
            certificateSerial: certificate.serialHex, certificateNotBefore: certificate.notValidBefore,
            connection: known?.connection ?? .random(in: .min ... .max))
        context.logger[metadataKey: "tenant"] = .string(identity.tenant)
        context.logger[metadataKey: "environment"] = .string(identity.environment)
        return try await next(request, context)
    }

    /// A 403 for a certificate whose identity cannot be used, written to the audit log first.
    private func refuse(_ certificate: Certificate, context: Context, _ detail: String) async -> APIProblem {
        let address = (context.channel.remoteAddress ?? context.channel.parent?.remoteAddress)?.ipAddress
        do {
            try await store.audit(
                AuditEntry(
                    at: clock.now(), actor: "agent:unidentified", action: "connect", target: "certificate \(certificate.serialHex)",
                    result: "refused", address: address, detail: detail))
        } catch {
            context.logger.error("cannot write the audit record", metadata: ["action": "connect", "error": "\(error)"])
        }
        return APIProblem(.forbidden, detail)
    }

    /// The verified peer certificate. With HTTP/1.1 the TLS handler is on the request's own channel;
    /// with HTTP/2 the request runs on a stream channel whose parent (the connection) holds it.
    static func peerCertificate(_ channel: any Channel) async throws -> Certificate {
        var peer = try await withTLSHandler(channel)
        if peer == nil, let parent = channel.parent { peer = try await withTLSHandler(parent) }
        guard let peer, let certificate = peer else { throw APIProblem(.unauthorized, "no client certificate was presented") }
        return try Certificate(derEncoded: try certificate.toDERBytes())
    }

    /// nil when `channel` has no TLS handler; otherwise the (possibly absent) peer certificate.
    private static func withTLSHandler(_ channel: any Channel) async throws -> NIOSSLCertificate?? {
        try await channel.eventLoop.submit { () -> NIOSSLCertificate?? in
            guard let handler = try? channel.pipeline.syncOperations.handler(type: NIOSSLHandler.self) else { return nil }
            return .some(handler.peerCertificate)
        }.get()
    }
}
