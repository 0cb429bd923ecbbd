import Foundation

extension Duration {
    /// The duration as Foundation's seconds, fractions included (to add to a `Date`, or to print).
    public var timeInterval: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
