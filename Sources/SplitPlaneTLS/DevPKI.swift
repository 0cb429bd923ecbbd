import Crypto
import Foundation
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// Writes the development PKI: a dev CA, the controller's server certificate and agent client
/// certificates. For development and tests only; production agents enroll for their certificates.
public struct DevPKI {
    public struct AgentSpec: Sendable {
        public var tenant: String
        public var environment: String
        public init(tenant: String, environment: String) {
            self.tenant = tenant
            self.environment = environment
        }
    }

    public var directory: URL
    public var trustDomain: String

    public init(directory: URL, trustDomain: String) {
        self.directory = directory
        self.trustDomain = trustDomain
    }

    /// Creates the CA (unless one already exists there), the server certificate and one certificate per agent.
    @discardableResult
    public func generate(agents: [AgentSpec], agentLifetime: TimeInterval = 30 * 86_400, now: Date = Date()) throws -> [String] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [String] = []
        let caCertPath = directory.appendingPathComponent("ca.pem")
        let caKeyPath = directory.appendingPathComponent("ca-key.pem")
        let ca: CertificateAuthority
        if FileManager.default.fileExists(atPath: caCertPath.path), FileManager.default.fileExists(atPath: caKeyPath.path) {
            ca = try .load(
                certificatePEM: String(contentsOf: caCertPath, encoding: .utf8),
                privateKeyPEM: String(contentsOf: caKeyPath, encoding: .utf8))
        } else {
            ca = try .create(commonName: "Qbeast development CA (not for production)", validFor: 365 * 86_400, now: now)
            try write(ca.privateKeyPEM, to: caKeyPath, secret: true)
            try write(ca.certificate.pemString(), to: caCertPath, secret: false)
            written += [caCertPath.lastPathComponent, caKeyPath.lastPathComponent]
        }

        let serverKey = P256.Signing.PrivateKey()
        let server = try ca.issueServerCertificate(
            commonName: "qbeast-controller", dnsNames: ["localhost"],
            ipAddresses: [[127, 0, 0, 1]], publicKey: serverKey.publicKey,
            validFor: 90 * 86_400, now: now)
        try write(serverKey.pemRepresentation, to: directory.appendingPathComponent("controller-key.pem"), secret: true)
        try write(server.pemString(), to: directory.appendingPathComponent("controller.pem"), secret: false)
        written += ["controller.pem", "controller-key.pem"]

        for agent in agents {
            let key = P256.Signing.PrivateKey()
            let identity = SPIFFEIdentity(trustDomain: trustDomain, tenant: agent.tenant, environment: agent.environment)
            let certificate = try ca.issueAgentCertificate(
                identity: identity, publicKey: key.publicKey,
                notBefore: now.addingTimeInterval(-300),
                notAfter: now.addingTimeInterval(agentLifetime))
            let base = "agent-\(agent.tenant)-\(agent.environment)"
            try write(key.pemRepresentation, to: directory.appendingPathComponent("\(base)-key.pem"), secret: true)
            try write(certificate.pemString(), to: directory.appendingPathComponent("\(base).pem"), secret: false)
            written += ["\(base).pem", "\(base)-key.pem"]
        }
        return written
    }

    /// Creates the file with its final mode from the start, so a private key is never readable by
    /// others, not even for a moment.
    private func write(_ text: String, to url: URL, secret: Bool) throws {
        unlink(url.path)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL, secret ? 0o600 : 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path]) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
    }
}
