import Crypto
import Foundation
import SplitPlaneProtocol

/// Slack's request signing (v0): `X-Slack-Signature` is `v0=` + hex HMAC-SHA256 of
/// `v0:{X-Slack-Request-Timestamp}:{raw body}` under the app's signing secret.
public struct SlackSignature: Sendable {
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case missingHeaders, badTimestamp, stale(seconds: Int), mismatch

        public var description: String {
            switch self {
            case .missingHeaders: "X-Slack-Signature and X-Slack-Request-Timestamp are required"
            case .badTimestamp: "X-Slack-Request-Timestamp is not a Unix time"
            case .stale(let seconds): "the request timestamp is \(seconds)s away from now (at most 300s is accepted)"
            case .mismatch: "the signature does not match"
            }
        }
    }

    /// Slack's advice: refuse requests more than five minutes old, so a captured request cannot be replayed.
    public static let maxAge: TimeInterval = 300

    private let secret: Data
    private var key: SymmetricKey { SymmetricKey(data: secret) }

    public init(signingSecret: String) { secret = Data(signingSecret.utf8) }

    public func signature(timestamp: String, body: Data) -> String {
        var message = Data("v0:\(timestamp):".utf8)
        message.append(body)
        return "v0=" + Hex.encode(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }

    public func verify(timestamp: String?, signature: String?, body: Data, at now: Date) throws(Refusal) {
        guard let timestamp, let signature else { throw .missingHeaders }
        // Whole seconds only: "1e308", "inf" or "nan" must be refused, not converted (Int(inf) traps).
        guard timestamp.count <= 12, let seconds = Int64(timestamp) else { throw .badTimestamp }
        let age = Int64(now.timeIntervalSince1970) - seconds
        if age > Int64(Self.maxAge) || age < -Int64(Self.maxAge) { throw .stale(seconds: Int(age)) }
        guard signature.hasPrefix("v0="), let given = Data(hex: String(signature.dropFirst(3))) else { throw .mismatch }
        var message = Data("v0:\(timestamp):".utf8)
        message.append(body)
        // HMAC's own validation compares in constant time.
        guard HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: message, using: key) else { throw .mismatch }
    }
}

extension Data {
    init?(hex: String) {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
