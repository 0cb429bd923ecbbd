import Foundation

/// ICU's regular expressions backtrack, where Prometheus' and Alertmanager's RE2 engine is linear: a
/// pattern like `(a|aa)+$` can keep ICU busy for minutes on a modest input. Patterns here come from
/// workspace specs and silences, so every match runs with a budget: ICU reports progress every few
/// thousand steps, and past `progressReportLimit` reports the match is stopped and refused.
public struct RegexTooExpensive: Error, Equatable, Sendable {
    public init() {}
}

extension NSRegularExpression {
    /// About 10,000 ICU steps per progress report: tens of milliseconds of matching in all.
    public static let progressReportLimit = 2_000

    /// Every match of the receiver in `text` (only the first when `first`), within the budget.
    public func boundedMatches(
        in text: String, first: Bool = false, progressReportLimit: Int = NSRegularExpression.progressReportLimit
    )
        throws(RegexTooExpensive) -> [NSTextCheckingResult]
    {
        var results: [NSTextCheckingResult] = []
        var reports = 0
        var stopped = false
        enumerateMatches(in: text, options: [.reportProgress], range: NSRange(location: 0, length: text.utf16.count)) { result, flags, stop in
            if let result {
                results.append(result)
                if first { stop.pointee = true }
            } else if flags.contains(.progress) {
                reports += 1
                if reports > progressReportLimit {
                    stopped = true
                    stop.pointee = true
                }
            }
        }
        if stopped { throw RegexTooExpensive() }
        return results
    }
}
