import Crypto
import Foundation
import SplitPlaneTLS
import X509

/// The agent's own key and certificates in its state directory (`identity/`): one key/certificate/CA
/// triple per serial, and a `current` file naming the one in use. Switching is one atomic rename, so a
/// crash leaves the old identity or the new, never a key with someone else's certificate. Keys are
/// written mode 0600 and never leave the directory.
public struct CredentialStore: Sendable {
    public let directory: URL

    public init(stateDirectory: String) {
        directory = URL(fileURLWithPath: stateDirectory).appendingPathComponent("identity")
    }

    /// The credentials in use, if any were stored.
    public func current() -> TLSFiles? {
        guard
            let serial = try? String(contentsOf: directory.appendingPathComponent("current"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines), !serial.isEmpty
        else { return nil }
        let files = self.files(serial)
        let all = [files.certificate, files.privateKey, files.trustBundle]
        return all.allSatisfy { FileManager.default.fileExists(atPath: $0) } ? files : nil
    }

    /// Writes a new triple and makes it current; the previous one stays until `prune` (connections may
    /// still use it).
    @discardableResult
    public func store(key: P256.Signing.PrivateKey, certificatePEM: String, caBundlePEM: String, serial: String) throws -> TLSFiles {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let files = self.files(serial)
        try AtomicFile.write(Data(key.pemRepresentation.utf8), to: URL(fileURLWithPath: files.privateKey))
        try AtomicFile.write(Data(certificatePEM.utf8), to: URL(fileURLWithPath: files.certificate))
        try AtomicFile.write(Data(caBundlePEM.utf8), to: URL(fileURLWithPath: files.trustBundle))
        try AtomicFile.write(Data(serial.utf8), to: directory.appendingPathComponent("current"))
        return files
    }

    /// Removes every triple but the current one and `keep`.
    public func prune(keeping keep: String?) {
        guard let current = current(), let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        let kept =
            [current.certificate, current.privateKey, current.trustBundle]
            + (keep.map { serial in
                let files = self.files(serial)
                return [files.certificate, files.privateKey, files.trustBundle]
            } ?? [])
        for name in names where name != "current" {
            let path = directory.appendingPathComponent(name).path
            if !kept.contains(path) { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    func files(_ serial: String) -> TLSFiles {
        TLSFiles(
            certificate: directory.appendingPathComponent("\(serial)-cert.pem").path,
            privateKey: directory.appendingPathComponent("\(serial)-key.pem").path,
            trustBundle: directory.appendingPathComponent("\(serial)-ca.pem").path)
    }

    /// The certificate in `files`, parsed.
    public static func certificate(_ files: TLSFiles) throws -> Certificate {
        try Certificate(pemEncoded: try String(contentsOfFile: files.certificate, encoding: .utf8))
    }
}
