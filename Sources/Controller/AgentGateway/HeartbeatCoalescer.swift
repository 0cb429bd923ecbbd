import ControllerModel
import Foundation
import SplitPlaneProtocol
import Synchronization

/// Most heartbeats say what the last one said. The first report on a connection, and any report that
/// differs from the last one written, is written at once; an unchanged one only notes the time, and
/// `HeartbeatFlusher` writes those times (agent-last-seen) for every environment in one transaction.
/// An unchanged report is still written in full once `rewriteAfter` has passed, so a status never
/// ages in the store by more than that.
///
/// The memory is per connection (an agent that reconnects, possibly to another replica, writes its
/// first report again) and dropped when the environment's desired state changes (a workspace deleted
/// and re-created between two heartbeats still gets its status).
final class HeartbeatCoalescer: Sendable {
    private struct Memo {
        var connection: UInt64
        /// nil once the environment's desired state changed: the next report is written whatever it says.
        var report: StatusReport?
        /// The written report's request body: the same bytes again are the same report, known without decoding.
        var body: Data?
        var writtenAt: Date
        var seenAt: Date?
    }

    let rewriteAfter: TimeInterval
    private let memos = Mutex<[GatewayCache.Key: Memo]>([:])

    init(rewriteAfter: Duration = .seconds(300)) {
        self.rewriteAfter = rewriteAfter.timeInterval
    }

    /// True when `body` is byte for byte the body of the report last written on this connection, still
    /// current: the sighting is noted and nothing else is to be done (most heartbeats; decoding them
    /// was the largest single cost of holding a fleet). False: decode it and ask `mustWrite`.
    func unchangedBody(_ key: GatewayCache.Key, connection: UInt64, body: Data, at now: Date) -> Bool {
        memos.withLock { memos in
            guard var memo = memos[key], memo.connection == connection, memo.report != nil, memo.body == body,
                now.timeIntervalSince(memo.writtenAt) < rewriteAfter
            else { return false }
            memo.seenAt = now
            memos[key] = memo
            return true
        }
    }

    /// True when the report must be written now; otherwise the sighting is noted for the next flush.
    func mustWrite(_ key: GatewayCache.Key, connection: UInt64, report: StatusReport, at now: Date) -> Bool {
        memos.withLock { memos in
            guard var memo = memos[key], memo.connection == connection, memo.report == report,
                now.timeIntervalSince(memo.writtenAt) < rewriteAfter
            else { return true }
            memo.seenAt = now
            memos[key] = memo
            return false
        }
    }

    /// The report (sent as `body`) was written (committed) at `now`.
    func written(_ key: GatewayCache.Key, connection: UInt64, report: StatusReport, body: Data? = nil, at now: Date) {
        memos.withLock { $0[key] = Memo(connection: connection, report: report, body: body, writtenAt: now, seenAt: nil) }
    }

    /// The sightings noted since the last call.
    func takeSightings() -> [AgentSighting] {
        memos.withLock { memos in
            var sightings: [AgentSighting] = []
            for (key, memo) in memos {
                guard let seen = memo.seenAt else { continue }
                sightings.append(AgentSighting(tenant: key.tenant, environment: key.environment, at: seen))
                memos[key]?.seenAt = nil
            }
            return sightings
        }
    }

    /// Sightings that could not be written go back, unless a newer one arrived meanwhile.
    func restore(_ sightings: [AgentSighting]) {
        memos.withLock { memos in
            for sighting in sightings {
                let key = GatewayCache.Key(tenant: sighting.tenant, environment: sighting.environment)
                guard memos[key] != nil, (memos[key]?.seenAt ?? .distantPast) < sighting.at else { continue }
                memos[key]?.seenAt = sighting.at
            }
        }
    }

    func changed(_ change: StoreChange) {
        guard case .desiredState(let tenant, let environment, _) = change else { return }
        memos.withLock { $0[GatewayCache.Key(tenant: tenant, environment: environment)]?.report = nil }
    }
}
