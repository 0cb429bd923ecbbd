import Foundation
import SplitPlaneProtocol

/// The customer's switch for support access, from the agent chart's `supportAccess` values
/// (`--support-access`, `--support-access-until`). Nothing the controller sends can change it. A grant
/// always ends: `until` is required, and once it passes the agent closes access by itself, connected
/// to the controller or not.
public struct SupportAccessGrant: Sendable, Equatable {
    public var enabled: Bool
    public var until: Date?

    public static let off = SupportAccessGrant(enabled: false, until: nil)

    public init(enabled: Bool, until: Date?) {
        self.enabled = enabled
        self.until = until
    }

    /// Open while enabled and before `until`.
    public func isOpen(at now: Date) -> Bool {
        guard enabled, let until else { return false }
        return now < until
    }

    public func state(at now: Date) -> SupportAccessStatus.State {
        guard enabled else { return .off }
        return isOpen(at: now) ? .granted : .expired
    }

    /// When the grant changes by itself (its end), if that is still ahead.
    public func nextChange(after now: Date) -> Date? {
        guard enabled, let until, until > now else { return nil }
        return until
    }
}
