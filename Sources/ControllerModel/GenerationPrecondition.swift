import Foundation
import SplitPlaneProtocol

/// What a write expects of the workspace it changes (from `If-Match` / `If-None-Match`).
public enum GenerationPrecondition: Sendable, Equatable {
    case any
    /// `If-None-Match: *`: create only.
    case absent
    /// `If-Match: *`: it must exist.
    case exists
    /// `If-Match: "<generation>"`: it must still be at this generation.
    case generation(Int64)

    /// Why the precondition fails for a workspace at `current` (nil: absent), or nil when it holds.
    public func failure(_ what: String, current: Int64?) -> String? {
        switch (self, current) {
        case (.any, _), (.absent, nil), (.exists, _?): return nil
        case (.absent, _?): return "\(what) already exists (If-None-Match: *)"
        case (.exists, nil), (.generation, nil): return "\(what) does not exist, so If-Match cannot hold"
        case (.generation(let expected), let actual?):
            return expected == actual
                ? nil
                : "\(what) is at generation \(actual), not \(expected): it changed since you read it; GET it again and reapply your change"
        }
    }
}
