import NIOCore
import NIOSSL
import Synchronization
import X509

/// The verified client certificate of each open connection, parsed once when its TLS handshake
/// completes instead of on every request (an agent's long polls and heartbeats share one HTTP/2
/// connection for hours). Keyed by the connection's channel; gone when the connection closes.
final class PeerCertificates: Sendable {
    private let byConnection = Mutex<[ObjectIdentifier: Certificate]>([:])

    /// Called on the connection's event loop once the handshake verified `peer`.
    func connected(_ channel: any Channel, peer: NIOSSLCertificate) {
        guard let certificate = try? Certificate(derEncoded: try peer.toDERBytes()) else { return }
        byConnection.withLock { $0[ObjectIdentifier(channel)] = certificate }
    }

    func closed(_ channel: any Channel) {
        _ = byConnection.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The certificate of the connection a request arrived on: the channel itself (HTTP/1.1) or the
    /// connection an HTTP/2 stream belongs to.
    func certificate(for channel: any Channel) -> Certificate? {
        byConnection.withLock { connections in
            connections[ObjectIdentifier(channel)] ?? channel.parent.flatMap { connections[ObjectIdentifier($0)] }
        }
    }

    var count: Int { byConnection.withLock { $0.count } }
}
