import Foundation
import SplitPlaneProtocol

/// Store refusals that map onto HTTP answers (404, 409) with a message meant for the operator.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case conflict(String)
    /// An `If-Match` / `If-None-Match` that does not hold (412).
    case preconditionFailed(String)

    public var description: String {
        switch self {
        case .notFound(let message), .conflict(let message), .preconditionFailed(let message): message
        }
    }
}
