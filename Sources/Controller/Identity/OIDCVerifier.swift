import AsyncHTTPClient
import Foundation
import JWTKit
import SplitPlaneProtocol

/// Verifies identity-provider JWTs and turns them into a `Principal`: signature by a key of the
/// provider's JWKS (`alg: none` never verifies), `iss`, `aud`, `exp`/`nbf` with a minute of skew,
/// then the role claim. Every refusal says which check failed.
public actor OIDCVerifier {
    let settings: OIDCSettings
    private var keys = JWTKeyCollection()
    private var loadedAt: Date?
    /// Last fetch caused by a token naming an unknown key (start-up and hourly loads do not count).
    private var lastRefetch = Date.distantPast
    static let skew: TimeInterval = 60
    static let refreshAfter: TimeInterval = 3600
    /// A token naming an unknown key makes the JWKS be fetched again, at most this often.
    static let refetchSpacing: TimeInterval = 30

    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim?

        // Time checks happen in `principal(for:at:)` on the controller's clock.
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    public init(settings: OIDCSettings) { self.settings = settings }

    /// Loads the keys now, so a wrong file or URL stops the controller at start instead of at first sign-in.
    public func load(now: Date = Date()) async throws {
        try await reload(now: now)
    }

    /// True for what looks like a JWT (three base64url parts, a JSON header); API tokens never do.
    nonisolated static func looksLikeJWT(_ token: String) -> Bool {
        token.hasPrefix("eyJ") && token.split(separator: ".", omittingEmptySubsequences: false).count == 3
    }

    func principal(for token: String, at now: Date) async throws(APIProblem) -> Principal {
        if loadedAt.map({ now.timeIntervalSince($0) > Self.refreshAfter }) ?? true { try? await reload(now: now) }
        var claims: Claims
        do {
            claims = try await keys.verify(token, as: Claims.self)
        } catch {
            // Perhaps the provider rotated its keys since: fetch them again (rate-limited) and retry once.
            guard now.timeIntervalSince(lastRefetch) >= Self.refetchSpacing, (try? await refetch(now: now)) != nil,
                let retried = try? await keys.verify(token, as: Claims.self)
            else {
                throw APIProblem(.unauthorized, "the identity token's signature does not verify with the provider's keys (\(settings.issuer))")
            }
            claims = retried
        }
        guard claims.iss.value == settings.issuer else {
            throw APIProblem(.unauthorized, "the identity token's issuer \"\(claims.iss.value)\" is not \"\(settings.issuer)\"")
        }
        guard claims.aud.value.contains(settings.audience) else {
            throw APIProblem(.unauthorized, "the identity token's audience \(claims.aud.value) does not include \"\(settings.audience)\"")
        }
        guard claims.exp.value.addingTimeInterval(Self.skew) > now else { throw APIProblem(.unauthorized, "the identity token has expired") }
        if let nbf = claims.nbf, nbf.value.addingTimeInterval(-Self.skew) > now {
            throw APIProblem(.unauthorized, "the identity token is not valid yet")
        }
        // The signature is verified: the payload's other claims can be read as they are.
        let payload = Self.payload(of: token)
        let name = payload?[settings.nameClaim]?.stringValue ?? claims.sub.value
        let values: [String] =
            switch payload?[settings.roleClaim] {
            case .string(let value)?: [value]
            case .array(let list)?: list.compactMap(\.stringValue)
            default: []
            }
        guard let (role, tenant) = settings.role(for: values) else {
            throw APIProblem(.forbidden, "signed in as \(name), but no API role maps from claim \"\(settings.roleClaim)\" \(values)")
        }
        return Principal(name: "oidc:\(name)", role: role, tenant: tenant)
    }

    private func refetch(now: Date) async throws {
        lastRefetch = now
        try await reload(now: now)
    }

    private func reload(now: Date) async throws {
        let json: String
        switch settings.keys {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else { throw OIDCError("cannot read the JWKS file \(path)") }
            json = String(decoding: data, as: UTF8.self)
        case .url(let url):
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw OIDCError("fetching the JWKS from \(url) answered \(response.status.code)") }
            json = String(buffer: body)
        }
        let fresh = JWTKeyCollection()
        do {
            try await fresh.add(jwksJSON: json)
        } catch {
            throw OIDCError("the provider's JWKS cannot be used: \(error)")
        }
        keys = fresh
        loadedAt = now
    }

    static func payload(of token: String) -> JSONValue? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64) else { return nil }
        return try? JSONDecoder().decode(JSONValue.self, from: data)
    }
}

public struct OIDCError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
