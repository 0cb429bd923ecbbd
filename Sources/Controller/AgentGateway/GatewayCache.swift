import ControllerModel
import Foundation
import NIOCore
import SplitPlaneProtocol
import Synchronization

/// What the agent gateway reads on every request, kept in memory: each environment's desired state
/// (and the answer encoded from it, once per revision) and the revocation verdicts of the
/// certificates calling for it. A poll that finds nothing changed then costs no database read.
///
/// The store's change feed keeps it true: a new revision drops the environment's desired state, a
/// revocation its verdicts, before the long polls hear of either (`StoreChangeFollower` tells the
/// cache first). While the feed is not listening (another replica's changes would go unheard) the
/// cache is bypassed and emptied. A read that raced with a change never stores what it read: each
/// environment's generation moves on every invalidation, and a read keeps its result only if the
/// generation it started with is still current.
final class GatewayCache: Sendable {
    struct Key: Hashable, Sendable {
        var tenant: String
        var environment: String
    }

    struct RevocationKey: Hashable, Sendable {
        var serial: String
        var notBefore: Date
    }

    /// A desired state with the answer bodies encoded from it (by trust bundle, which rotates apart
    /// from revisions).
    struct Desired: Sendable {
        var state: DesiredState
        var encoded: [String: ByteBuffer] = [:]
    }

    private struct Entry {
        var generation: UInt64 = 0
        var desired: Desired?
        var revocations: [RevocationKey: String?] = [:]
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Moves with every `invalidateAll`, so reads begun before it keep nothing.
        var epoch: UInt64 = 0
        var trusted = false
    }

    private let state = Mutex(State())
    private let counters = Mutex<(hits: Int, misses: Int)>((0, 0))

    // MARK: Reads

    /// The environment's desired state; `load` reads the store on a miss (nil: no such environment,
    /// which is never cached).
    func desiredState(_ key: Key, load: () async throws -> DesiredState?) async throws -> DesiredState? {
        try await desired(key, load: load)?.state
    }

    /// The desired-state answer for the agent, encoded once per revision and trust bundle.
    func answer(
        _ key: Key, trustBundle: String?, load: () async throws -> DesiredState?,
        encode: (DesiredState) throws -> ByteBuffer
    ) async throws -> (revision: Int64, body: ByteBuffer)? {
        guard let desired = try await desired(key, load: load) else { return nil }
        let bundleKey = trustBundle ?? ""
        if let body = desired.encoded[bundleKey] { return (desired.state.revision, body) }
        let body = try encode(desired.state)
        state.withLock { state in
            guard state.trusted, state.entries[key]?.desired?.state.revision == desired.state.revision else { return }
            // A new trust bundle replaces the old answers: only the current one is asked for again.
            state.entries[key]?.desired?.encoded = [bundleKey: body]
        }
        return (desired.state.revision, body)
    }

    /// Why the certificate is revoked, or nil when it is not.
    func revocation(_ key: Key, _ certificate: RevocationKey, load: () async throws -> String?) async throws -> String? {
        let cached = state.withLock { state -> (hit: String??, generation: UInt64, epoch: UInt64, trusted: Bool) in
            let entry = state.entries[key]
            return (entry?.revocations[certificate], entry?.generation ?? 0, state.epoch, state.trusted)
        }
        if cached.trusted, let verdict = cached.hit {
            count(hit: true)
            return verdict
        }
        count(hit: false)
        let verdict = try await load()
        guard cached.trusted else { return verdict }
        state.withLock { state in
            guard state.trusted, state.epoch == cached.epoch, (state.entries[key]?.generation ?? 0) == cached.generation else { return }
            state.entries[key, default: Entry()].revocations[certificate] = .some(verdict)
        }
        return verdict
    }

    private func desired(_ key: Key, load: () async throws -> DesiredState?) async throws -> Desired? {
        let cached = state.withLock { state -> (hit: Desired?, generation: UInt64, epoch: UInt64, trusted: Bool) in
            let entry = state.entries[key]
            return (entry?.desired, entry?.generation ?? 0, state.epoch, state.trusted)
        }
        if cached.trusted, let hit = cached.hit {
            count(hit: true)
            return hit
        }
        count(hit: false)
        guard let loaded = try await load() else { return nil }
        let desired = Desired(state: loaded)
        guard cached.trusted else { return desired }
        state.withLock { state in
            guard state.trusted, state.epoch == cached.epoch, (state.entries[key]?.generation ?? 0) == cached.generation else { return }
            // Never step back to an older revision another read stored meanwhile.
            if let current = state.entries[key]?.desired, current.state.revision >= loaded.revision { return }
            state.entries[key, default: Entry()].desired = desired
        }
        return desired
    }

    // MARK: Invalidation

    /// Applies a change the store committed (this replica's or another's).
    func changed(_ change: StoreChange) {
        state.withLock { state in
            switch change {
            case .desiredState(let tenant, let environment, let revision):
                let key = Key(tenant: tenant, environment: environment)
                // An environment not cached yet still gets its generation moved: a read in flight
                // for it may have read the state before this change.
                var entry = state.entries[key] ?? Entry()
                if let current = entry.desired, current.state.revision >= revision { return }
                entry.generation &+= 1
                entry.desired = nil
                // A deleted and re-created environment keeps no verdicts of its predecessor.
                entry.revocations = [:]
                state.entries[key] = entry
            case .revoked(let tenant, let environment):
                let key = Key(tenant: tenant, environment: environment)
                var entry = state.entries[key] ?? Entry()
                entry.generation &+= 1
                entry.revocations = [:]
                state.entries[key] = entry
            }
        }
    }

    /// Trusted only while every change is heard: `false` empties the cache and bypasses it until the
    /// feed listens again (`true` starts from empty as well: changes made during the gap were missed).
    func setFollowing(_ following: Bool) {
        state.withLock { state in
            state.entries = [:]
            state.epoch &+= 1
            state.trusted = following
        }
    }

    private func count(hit: Bool) {
        counters.withLock { if hit { $0.hits += 1 } else { $0.misses += 1 } }
    }

    /// Reads answered from memory and from the store, since start.
    var statistics: (hits: Int, misses: Int) { counters.withLock { $0 } }
}
