import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import SplitPlaneProtocol
import SplitPlaneTLS

/// How an agent with no identity gets one: `POST /enroll/v1` on the controller's enrollment listener,
/// trusting the controller through the CA bundle it was installed with, proving its environment with
/// a one-time token, and sending a CSR for a key it has just made.
public struct EnrollmentSettings: Sendable {
    /// e.g. `https://controller.qbeast.io:8445`
    public var url: String
    public var tenant: String
    public var environment: String
    public enum Proof: Sendable, Equatable {
        /// File holding the one-time enrollment token (a Kubernetes Secret in the chart).
        case tokenFile(String)
        /// The projected service-account token (audience: the controller's), re-read at each use
        /// because the kubelet rotates it.
        case serviceAccountTokenFile(String)
    }
    public var proof: Proof

    public init(url: String, tenant: String, environment: String, proof: Proof) {
        self.url = url
        self.tenant = tenant
        self.environment = environment
        self.proof = proof
    }

    public init(url: String, tenant: String, environment: String, tokenFile: String) {
        self.init(url: url, tenant: tenant, environment: environment, proof: .tokenFile(tokenFile))
    }
}

public enum AgentEnrollment {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The TLS files to run with: the identity already in the state directory; else those configured
    /// (certificates made elsewhere); else a new identity from enrollment.
    /// `configured`: certificate files given on the command line; `caBundle`: what the controller's
    /// server certificate must chain to before the agent has one of its own.
    public static func credentials(
        stateDirectory: String, configured: TLSFiles?, caBundle: String, enrollment: EnrollmentSettings?,
        trustDomain: String, logger: Logger, proxy: OutboundProxy? = nil
    ) async throws -> TLSFiles {
        let store = CredentialStore(stateDirectory: stateDirectory)
        if let current = store.current() {
            if let certificate = try? CredentialStore.certificate(current), certificate.notValidAfter > Date() { return current }
            logger.warning("the stored certificate has expired; enrolling again")
        } else if let configured {
            return configured
        }
        guard let enrollment else {
            throw Failure(description: "no identity: give --tls-cert/--tls-key, or an enrollment (--enroll-url with --enrollment-token-file)")
        }
        let file: String
        switch enrollment.proof {
        case .tokenFile(let path), .serviceAccountTokenFile(let path): file = path
        }
        guard let secret = try? String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !secret.isEmpty else {
            throw Failure(description: "cannot read the enrollment proof from \(file)")
        }
        let identity = SPIFFEIdentity(trustDomain: trustDomain, tenant: enrollment.tenant, environment: enrollment.environment)
        let key = P256.Signing.PrivateKey()
        let csr = try AgentKeyMaterial.csr(for: identity, key: key)
        let request =
            switch enrollment.proof {
            case .tokenFile: EnrollmentRequest(tenant: enrollment.tenant, environment: enrollment.environment, token: secret, csr: csr)
            case .serviceAccountTokenFile:
                EnrollmentRequest(tenant: enrollment.tenant, environment: enrollment.environment, serviceAccountToken: secret, csr: csr)
            }
        let issued = try await post(request, to: enrollment.url, trustBundle: caBundle, proxy: proxy)
        let files = try store.store(key: key, certificatePEM: issued.certificate, caBundlePEM: issued.caBundle, serial: issued.serial)
        logger.info(
            "enrolled",
            metadata: [
                "environment": "\(enrollment.tenant)/\(enrollment.environment)", "serial": "\(issued.serial)",
                "notAfter": "\(Timestamp.format(issued.notAfter))",
            ])
        return files
    }

    static func post(_ request: EnrollmentRequest, to url: String, trustBundle: String, proxy: OutboundProxy?) async throws -> IssuedCertificate {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: try TLSConfigurations.operatorClient(trustBundle: trustBundle),
            timeout: .init(connect: .seconds(10)),
            proxy: proxy?.configuration(for: [URLComponents(string: url)?.host ?? ""]))
        configuration.httpVersion = .http1Only
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { http.shutdown { _ in } }
        var httpRequest = HTTPClientRequest(url: (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/enroll/v1")
        httpRequest.method = .POST
        httpRequest.headers.add(name: "Content-Type", value: "application/json")
        httpRequest.body = .bytes(ByteBuffer(data: try StrictJSON.encode(request)))
        let response: HTTPClientResponse
        do {
            response = try await http.execute(httpRequest, timeout: .seconds(30))
        } catch {
            let configured = configuration.proxy
            throw configured.flatMap { ControllerClient.explainProxyFailure(error, proxy: $0) } ?? error
        }
        let body = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status.code == 201 else {
            let detail = (try? StrictJSON.decoder().decode(Problem.self, from: body))?.detail ?? String(decoding: body.prefix(300), as: UTF8.self)
            throw Failure(description: "enrollment refused (\(response.status.code)): \(detail)")
        }
        return try StrictJSON.decode(IssuedCertificate.self, from: body)
    }
}
