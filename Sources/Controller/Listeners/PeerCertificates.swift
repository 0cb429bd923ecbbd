import NIOCore
import NIOSSL
import Synchronization
import X509

/// The verified client certificate of each open connection, parsed once when its TLS handshake
/// completes instead of on every request (an agent's long polls and heartbeats share one HTTP/2
/// connection for hours). Keyed by the connection's channel; gone when the connection closes.
final class PeerCertificates: Sendable {
    /// A verified client certificate and the number of its connection, unique for the process's life
    /// (what remembers a connection must not mistake a later one for it).
    struct Peer: Sendable {
        var certificate: Certificate
        var connection: UInt64
    }

    private let byConnection = Mutex<(peers: [ObjectIdentifier: Peer], connections: UInt64)>(([:], 0))

    /// Called on the connection's event loop once the handshake verified `peer`.
    func connected(_ channel: any Channel, peer: NIOSSLCertificate) {
        guard let certificate = try? Certificate(derEncoded: try peer.toDERBytes()) else { return }
        byConnection.withLock { state in
            state.connections += 1
            state.peers[ObjectIdentifier(channel)] = Peer(certificate: certificate, connection: state.connections)
        }
    }

    func closed(_ channel: any Channel) {
        _ = byConnection.withLock { $0.peers.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The peer of the connection a request arrived on: the channel itself (HTTP/1.1) or the
    /// connection an HTTP/2 stream belongs to.
    func peer(for channel: any Channel) -> Peer? {
        byConnection.withLock { state in
            state.peers[ObjectIdentifier(channel)] ?? channel.parent.flatMap { state.peers[ObjectIdentifier($0)] }
        }
    }

    var count: Int { byConnection.withLock { $0.peers.count } }
}
