import Synchronization

/// What `/readyz` reports: named checks that each part of a process sets as it starts and stops.
public final class Readiness: Sendable {
    private let checks = Mutex<[String: String?]>([:])

    public init() {}

    /// Marks `name` ready (`problem == nil`) or not ready with the reason shown in `/readyz`.
    public func set(_ name: String, problem: String?) {
        checks.withLock { $0[name] = .some(problem) }
    }

    /// Nil when every check is ready, else the reasons.
    public var problems: [String]? {
        let all = checks.withLock { $0 }
        let failing = all.compactMap { name, problem in problem.map { "\(name): \($0)" } }.sorted()
        if all.isEmpty { return ["starting"] }
        return failing.isEmpty ? nil : failing
    }
}
