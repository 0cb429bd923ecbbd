import Foundation
import SplitPlaneProtocol

public enum DeliveryOutcome: Sendable, Equatable {
    case sent
    case retry(at: Date, error: String)
    /// Whether the receiver got it is not known (the request timed out or lost its connection, or
    /// asking the receiver about an earlier such attempt failed). Retried like `retry`, and the
    /// earliest unanswered attempt stays marked, so the next one first asks the receiver where it can.
    case outcomeUnknown(retryAt: Date, error: String)
    /// Not attempted (the channel's rate limit): tried again then, without counting an attempt.
    case deferred(until: Date)
    case failed(String)
}
