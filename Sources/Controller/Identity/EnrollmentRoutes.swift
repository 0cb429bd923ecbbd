import ControllerModel
import Foundation
import Hummingbird
import ServiceSupport
import SplitPlaneProtocol

/// `POST /enroll/v1`, on its own TLS listener without client certificates: an agent with no identity
/// yet proves which environment it serves and gets its first certificate. Nothing is issued on any
/// refusal, and every attempt is audited (never with the token).
struct EnrollmentRoutes {
    typealias Context = OperatorRequestContext
    let store: (any IdentityStore & AuditStore)
    let issuer: AgentCertificateIssuer
    let serviceAccounts: ServiceAccountTokenVerifier
    let clock: any TimeSource

    func register(on router: Router<Context>) {
        router.post("enroll/v1", use: enroll)
    }

    @Sendable func enroll(_ request: Request, context: Context) async throws -> Response {
        let body = try await JSONBodies.decode(EnrollmentRequest.self, from: request, limit: 64 * 1024)
        try body.validate()
        let target = "\(body.tenant)/\(body.environment)"
        let method = body.token != nil ? "token" : "service-account"
        do {
            // The CSR is checked before the token is spent: a malformed request does not burn it.
            let certificate = try issuer.sign(csr: body.csr, tenant: body.tenant, environment: body.environment, at: clock.now())
            if let token = body.token {
                try await checkToken(token, tenant: body.tenant, environment: body.environment)
            } else if let jwt = body.serviceAccountToken {
                guard let trust = try await store.serviceAccountTrust(tenant: body.tenant, environment: body.environment) else {
                    throw APIProblem(.unauthorized, "no service-account trust is registered for \(target)")
                }
                try await serviceAccounts.verify(jwt, trust: trust, at: clock.now())
            }
            let issued = try await issuer.record(
                certificate, tenant: body.tenant, environment: body.environment, method: method,
                store: store, at: clock.now())
            // The certificate is issued: a failing audit write is logged, not turned into a lost enrollment.
            do {
                try await store.audit(
                    AuditEntry(
                        at: clock.now(), actor: "agent:\(target)", action: "enroll", target: target, result: "issued",
                        address: context.address, detail: "method=\(method) serial=\(issued.serial)"))
            } catch {
                context.logger.error("cannot write the audit record", metadata: ["action": "enroll", "target": "\(target)", "error": "\(error)"])
            }
            return try JSONBodies.response(issued, status: .created)
        } catch let problem as APIProblem {
            try? await store.audit(
                AuditEntry(
                    at: clock.now(), actor: "agent:\(target)", action: "enroll", target: target,
                    result: "refused", address: context.address, detail: "method=\(method): \(problem.detail)"))
            throw problem
        }
    }

    private func checkToken(_ token: String, tenant: String, environment: String) async throws {
        switch try await store.consumeEnrollmentToken(
            tokenHash: EnrollmentTokens.hash(token), tenant: tenant, environment: environment,
            at: clock.now())
        {
        case .valid: return
        case .unknown: throw APIProblem(.unauthorized, "the enrollment token is not valid")
        case .expired: throw APIProblem(.unauthorized, "the enrollment token has expired; ask for a new one (qbctl env enroll-token)")
        case .alreadyUsed: throw APIProblem(.unauthorized, "the enrollment token was already used; tokens work once")
        case .otherEnvironment: throw APIProblem(.forbidden, "the enrollment token was issued for another environment")
        }
    }
}

/// One-time enrollment tokens: 32 random bytes, shown once, kept as SHA-256.
enum EnrollmentTokens {
    static let defaultTTL: TimeInterval = 15 * 60
    static let maxTTL: TimeInterval = 24 * 3600

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "qbe_"
            + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ token: String) -> String { Hex.sha256(token) }
}
