import Foundation
import NIOSSL
import Synchronization

/// A server certificate and key that follow their files: each TLS handshake checks the files'
/// modification times and, when either changed, loads them again — so a rotated certificate (e.g. a
/// renewed Kubernetes Secret) is served without a restart. If the new files do not load (a half-written
/// pair), the previous certificate stays in use until they do.
public final class ReloadingCertificate: Sendable {
    private struct Loaded {
        var stamp: [Date]
        var chain: [NIOSSLCertificateSource]
        var key: NIOSSLPrivateKeySource
    }

    private let certificatePath: String
    private let keyPath: String
    private let loaded: Mutex<Loaded>

    public init(certificate: String, privateKey: String) throws {
        certificatePath = certificate
        keyPath = privateKey
        loaded = Mutex(try Self.load(certificate, privateKey))
    }

    private static func stamp(_ paths: String...) -> [Date] {
        paths.map { (try? FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as? Date) ?? .distantPast }
    }

    private static func load(_ certificate: String, _ key: String) throws -> Loaded {
        Loaded(
            stamp: stamp(certificate, key),
            chain: try TLSConfigurations.loadCertificates(certificate).map { .certificate($0) },
            key: .privateKey(try TLSConfigurations.loadPrivateKey(key)))
    }

    /// What the next handshake serves.
    public func current() -> NIOSSLContextConfigurationOverride {
        let now = Self.stamp(certificatePath, keyPath)
        let state = loaded.withLock { loaded in
            if loaded.stamp != now, let fresh = try? Self.load(certificatePath, keyPath) { loaded = fresh }
            return loaded
        }
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = state.chain
        override.privateKey = state.key
        return override
    }

    /// Installs the reloading behaviour into a server configuration.
    public func install(into configuration: inout TLSConfiguration) {
        configuration.sslContextCallback = { [self] _, promise in promise.succeed(self.current()) }
    }
}
