import ControllerModel
import Foundation

/// How a change travels between replicas: `<origin>|<tenant>/<environment>:<revision>` on the
/// desired-state channel, `<origin>|<tenant>/<environment>` on the revocation channel. `origin` lets a
/// replica skip what it announced itself (it has already told its own followers).
enum ChangeWire {
    static let desiredChannel = "qbeast_desired"
    static let revokedChannel = "qbeast_revoked"

    static func message(_ change: StoreChange, origin: String) -> (channel: String, payload: String) {
        switch change {
        case .desiredState(let tenant, let environment, let revision): (desiredChannel, "\(origin)|\(tenant)/\(environment):\(revision)")
        case .revoked(let tenant, let environment): (revokedChannel, "\(origin)|\(tenant)/\(environment)")
        }
    }

    /// The change and who announced it (nil for a payload without an origin, from older replicas);
    /// nil for a payload this version does not understand.
    static func change(channel: String, payload: String) -> (origin: String?, change: StoreChange)? {
        var body = Substring(payload)
        var origin: String?
        if let bar = body.firstIndex(of: "|") {
            origin = String(body[..<bar])
            body = body[body.index(after: bar)...]
        }
        switch channel {
        case desiredChannel:
            guard let colon = body.lastIndex(of: ":"), let revision = Int64(body[body.index(after: colon)...]),
                let (tenant, environment) = key(body[..<colon])
            else { return nil }
            return (origin, .desiredState(tenant: tenant, environment: environment, revision: revision))
        case revokedChannel:
            return key(body).map { (origin, .revoked(tenant: $0.0, environment: $0.1)) }
        default:
            return nil
        }
    }

    private static func key(_ text: Substring) -> (String, String)? {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        return (String(text[..<slash]), String(text[text.index(after: slash)...]))
    }
}
