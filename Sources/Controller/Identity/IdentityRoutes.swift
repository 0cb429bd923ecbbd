import ControllerModel
import Foundation
import Hummingbird
import ServiceSupport
import SplitPlaneProtocol

/// Operator API of agent identities: one-time enrollment tokens, issued certificates, revocation, audit.
struct IdentityRoutes {
    typealias Context = OperatorRequestContext
    let store: (any IdentityStore & FleetStore & AuditStore)
    let clock: any TimeSource
    let bodyLimit: Int

    func register(on group: RouterGroup<Context>) {
        group.post("tenants/:tenant/environments/:environment/enrollment-tokens", use: createToken)
        group.get("tenants/:tenant/environments/:environment/certificates", use: listCertificates)
        group.post("tenants/:tenant/environments/:environment/revoke", use: revokeEnvironment)
        group.post("certificates/:serial/revoke", use: revokeCertificate)
        group.put("tenants/:tenant/environments/:environment/service-account-trust", use: setTrust)
        group.get("tenants/:tenant/environments/:environment/service-account-trust", use: getTrust)
        group.delete("tenants/:tenant/environments/:environment/service-account-trust", use: deleteTrust)
        group.get("audit", use: listAudit)
    }

    @Sendable func createToken(_ request: Request, context: Context) async throws -> Response {
        let (tenant, environment) = try names(context)
        var ttl = EnrollmentTokens.defaultTTL
        if request.headers[.contentLength] != "0", request.headers[.contentType] != nil,
            let text = try await JSONBodies.decode(EnrollmentTokenRequest.self, from: request, limit: bodyLimit).ttl
        {
            guard let duration = PrometheusDuration.parse(text), duration > .zero, duration.timeInterval <= EnrollmentTokens.maxTTL else {
                throw APIProblem(.badRequest, "ttl: \"\(text)\" must be a positive duration of at most 24h (e.g. 15m)")
            }
            ttl = duration.timeInterval
        }
        let token = EnrollmentTokens.make()
        let expiresAt = clock.now().addingTimeInterval(ttl)
        try await store.createEnrollmentToken(
            tenant: tenant, environment: environment, tokenHash: EnrollmentTokens.hash(token),
            expiresAt: expiresAt, at: clock.now())
        return try JSONBodies.response(
            EnrollmentToken(tenant: tenant, environment: environment, token: token, expiresAt: expiresAt),
            status: .created, headers: [.cacheControl: "no-store"])
    }

    @Sendable func listCertificates(_ request: Request, context: Context) async throws -> Response {
        let (tenant, environment) = try names(context)
        guard try await store.environment(tenant: tenant, name: environment) != nil else {
            throw APIProblem(.notFound, "environment \"\(environment)\" not found in tenant \"\(tenant)\"")
        }
        let page = try ListPage(request)
        // Newest first, as before pagination: the key counts down with issuance time, then the serial.
        return try JSONBodies.response(
            page.page(try await store.certificates(tenant: tenant, environment: environment)) { certificate in
                String(format: "%020lld-", Int64.max / 2 - Int64(certificate.notBefore.timeIntervalSince1970 * 1000)) + certificate.serial
            })
    }

    @Sendable func revokeEnvironment(_ request: Request, context: Context) async throws -> Response {
        let (tenant, environment) = try names(context)
        // The store's change has held long polls of the environment answer now, with the refusal.
        try await store.revokeEnvironment(tenant: tenant, environment: environment, at: clock.now())
        return try JSONBodies.response(ListResponse(items: try await store.certificates(tenant: tenant, environment: environment)))
    }

    @Sendable func revokeCertificate(_ request: Request, context: Context) async throws -> Response {
        let serial = (context.parameters.get("serial") ?? "").lowercased()
        guard !serial.isEmpty, serial.count <= 64, serial.allSatisfy(\.isHexDigit) else {
            throw APIProblem(.badRequest, "serial: expected the certificate's serial number in hex")
        }
        let certificate = try await store.revokeCertificate(serial: serial, at: clock.now())
        return try JSONBodies.response(certificate)
    }

    @Sendable func setTrust(_ request: Request, context: Context) async throws -> Response {
        let (tenant, environment) = try names(context)
        let trust = try await JSONBodies.decode(ServiceAccountTrust.self, from: request, limit: bodyLimit)
        try trust.validate()
        try await store.setServiceAccountTrust(tenant: tenant, environment: environment, trust, at: clock.now())
        return try JSONBodies.response(trust)
    }

    @Sendable func getTrust(_ request: Request, context: Context) async throws -> Response {
        let (tenant, environment) = try names(context)
        guard let trust = try await store.serviceAccountTrust(tenant: tenant, environment: environment) else {
            throw APIProblem(.notFound, "no service-account trust is registered for \(tenant)/\(environment)")
        }
        return try JSONBodies.response(trust)
    }

    @Sendable func deleteTrust(_ request: Request, context: Context) async throws -> Response {
        let (tenant, environment) = try names(context)
        try await store.setServiceAccountTrust(tenant: tenant, environment: environment, nil, at: clock.now())
        return Response(status: .noContent)
    }

    @Sendable func listAudit(_ request: Request, context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        var limit = 100
        if let text = query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else { throw APIProblem(.badRequest, "limit must be 1 to 1000") }
            limit = value
        }
        var before: Int64?
        if let text = query["before"] {
            guard let value = Int64(text), value > 0 else { throw APIProblem(.badRequest, "before must be an audit record id") }
            before = value
        }
        return try JSONBodies.response(ListResponse(items: try await store.auditRecords(limit: limit, before: before)))
    }

    private func names(_ context: Context) throws -> (String, String) {
        let tenant = context.parameters.get("tenant") ?? ""
        let environment = context.parameters.get("environment") ?? ""
        try ResourceName.validate(tenant, field: "tenant")
        try ResourceName.validate(environment, field: "environment")
        return (tenant, environment)
    }
}
