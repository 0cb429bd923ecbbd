import Crypto
import Foundation
import Logging
import ServiceSupport
import SplitPlaneTLS
import X509

extension AgentService {
    /// Renews the certificate at two thirds of its lifetime with a fresh key, over the current mutual
    /// TLS connection, stores it, and switches new connections to it — no restart, and nothing in
    /// flight is cut (alerts wait in the outbox regardless).
    func renewCertificates() async {
        let store = CredentialStore(stateDirectory: configuration.stateDirectory)
        var failures = 0
        while !Task.isCancelled {
            guard let certificate = try? CredentialStore.certificate(credentials.withLock({ $0 })),
                let identity = certificate.spiffeIdentity
            else {
                logger.warning("cannot read the current certificate; it will not be renewed")
                return
            }
            let lifetime = certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore)
            let renewAt = certificate.notValidBefore.addingTimeInterval(lifetime * 2 / 3)
            let wait = renewAt.timeIntervalSince(clock.now())
            if wait > 0 {
                try? await clock.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up))))
                continue
            }
            do {
                let previous = certificate.serialHex
                let key = P256.Signing.PrivateKey()
                let issued = try await client.renew(csr: try AgentKeyMaterial.csr(for: identity, key: key))
                let files = try store.store(key: key, certificatePEM: issued.certificate, caBundlePEM: issued.caBundle, serial: issued.serial)
                try client.switchCredentials(to: files)
                credentials.withLock { $0 = files }
                store.prune(keeping: previous)
                failures = 0
                logger.info(
                    "certificate renewed",
                    metadata: [
                        "serial": "\(issued.serial)", "replaces": "\(previous)",
                        "notAfter": "\(issued.notAfter)",
                    ])
                await event(.normal, "CertificateRenewed", "Renew", "certificate renewed: serial \(issued.serial), valid until \(issued.notAfter)")
                await state.markChanged()
            } catch {
                if Task.isCancelled { return }
                await retryPause(&failures, "certificate renewal", error)
            }
        }
    }
}

extension AgentService {
    /// Takes the CA bundle the controller hands out with the desired state (a CA rotation in progress)
    /// for new connections. Only the agent's own files in its state directory are rewritten; files an
    /// operator configured are left alone.
    func adoptTrustBundle(_ bundle: String) {
        let files = credentials.withLock { $0 }
        let store = CredentialStore(stateDirectory: configuration.stateDirectory)
        guard files.trustBundle.hasPrefix(store.directory.path + "/"),
            (try? String(contentsOfFile: files.trustBundle, encoding: .utf8)) != bundle,
            bundle.contains("-----BEGIN CERTIFICATE-----")
        else { return }
        do {
            try AtomicFile.write(Data(bundle.utf8), to: URL(fileURLWithPath: files.trustBundle))
            try client.switchCredentials(to: files)
            logger.info("trust bundle updated from the controller")
        } catch {
            logger.error("cannot adopt the controller's trust bundle", metadata: ["error": "\(error)"])
        }
    }
}
