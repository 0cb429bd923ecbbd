import ControllerModel
import Foundation
import NIOCore
import SplitPlaneProtocol
import Synchronization
import Testing

@testable import Controller

/// The gateway's in-memory copies: served while the change feed listens, dropped by the changes it
/// delivers, never filled with what a read saw before a change it raced with.
@Suite struct GatewayCacheTests {
    let key = GatewayCache.Key(tenant: "acme", environment: "prod")

    func state(_ revision: Int64) -> DesiredState {
        DesiredState(tenant: "acme", environment: "prod", revision: revision, workspaces: [])
    }

    final class Loads: Sendable {
        let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        func load(_ state: DesiredState?) -> DesiredState? { count.withLock { $0 += 1 }; return state }
    }

    @Test func servesFromMemoryUntilANewRevision() async throws {
        let cache = GatewayCache()
        cache.setFollowing(true)
        let loads = Loads()
        #expect(try await cache.desiredState(key) { loads.load(state(5)) }?.revision == 5)
        #expect(try await cache.desiredState(key) { loads.load(state(6)) }?.revision == 5)
        #expect(loads.value == 1)
        cache.changed(.desiredState(tenant: "acme", environment: "prod", revision: 5))
        #expect(try await cache.desiredState(key) { loads.load(state(6)) }?.revision == 5, "a revision it already has changes nothing")
        cache.changed(.desiredState(tenant: "acme", environment: "prod", revision: 6))
        #expect(try await cache.desiredState(key) { loads.load(state(6)) }?.revision == 6)
        #expect(loads.value == 2)
        cache.changed(.desiredState(tenant: "other", environment: "prod", revision: 9))
        #expect(try await cache.desiredState(key) { loads.load(state(7)) }?.revision == 6, "another environment's change leaves this one")
    }

    @Test func bypassedWhileTheFeedIsNotListening() async throws {
        let cache = GatewayCache()
        let loads = Loads()
        _ = try await cache.desiredState(key) { loads.load(state(1)) }
        _ = try await cache.desiredState(key) { loads.load(state(1)) }
        #expect(loads.value == 2, "not trusted before the feed listens")
        cache.setFollowing(true)
        _ = try await cache.desiredState(key) { loads.load(state(1)) }
        _ = try await cache.desiredState(key) { loads.load(state(1)) }
        #expect(loads.value == 3)
        cache.setFollowing(false)
        #expect(try await cache.desiredState(key) { loads.load(state(2)) }?.revision == 2, "emptied and bypassed when the feed is lost")
        cache.setFollowing(true)
        #expect(try await cache.desiredState(key) { loads.load(state(3)) }?.revision == 3, "starts from empty when it listens again")
    }

    @Test func aReadThatRacedWithAChangeKeepsNothing() async throws {
        let cache = GatewayCache()
        cache.setFollowing(true)
        // The read sees revision 1; the change to 2 is committed and announced before it stores.
        let read = try await cache.desiredState(key) {
            cache.changed(.desiredState(tenant: "acme", environment: "prod", revision: 2))
            return state(1)
        }
        #expect(read?.revision == 1)
        #expect(try await cache.desiredState(key) { state(2) }?.revision == 2, "the stale read was not kept")

        let verdict = try await cache.revocation(key, .init(serial: "0a", notBefore: .distantPast)) {
            cache.changed(.revoked(tenant: "acme", environment: "prod"))
            return nil
        }
        #expect(verdict == nil)
        #expect(try await cache.revocation(key, .init(serial: "0a", notBefore: .distantPast)) { "revoked" } == "revoked")
    }

    @Test func revocationsAreDroppedForTheirEnvironmentOnly() async throws {
        let cache = GatewayCache()
        cache.setFollowing(true)
        let certificate = GatewayCache.RevocationKey(serial: "01", notBefore: Date(timeIntervalSince1970: 0))
        let other = GatewayCache.Key(tenant: "acme", environment: "dev")
        #expect(try await cache.revocation(key, certificate) { nil } == nil)
        #expect(try await cache.revocation(other, certificate) { nil } == nil)
        #expect(try await cache.revocation(key, certificate) { "stale" } == nil, "served from memory")
        cache.changed(.revoked(tenant: "acme", environment: "prod"))
        #expect(try await cache.revocation(key, certificate) { "revoked" } == "revoked")
        #expect(try await cache.revocation(other, certificate) { "stale" } == nil)
    }

    @Test func answersAreEncodedOncePerRevisionAndTrustBundle() async throws {
        let cache = GatewayCache()
        cache.setFollowing(true)
        let encodings = Loads()
        func answer(_ bundle: String?) async throws -> String? {
            try await cache.answer(
                key, trustBundle: bundle, load: { state(4) },
                encode: { state in
                    _ = encodings.load(nil)
                    return ByteBuffer(string: "\(state.revision)/\(bundle ?? "-")")
                }
            ).map { String(buffer: $0.body) }
        }
        #expect(try await answer("a") == "4/a")
        #expect(try await answer("a") == "4/a")
        #expect(encodings.value == 1)
        #expect(try await answer("b") == "4/b", "a new trust bundle is a new answer")
        #expect(encodings.value == 2)
        cache.changed(.desiredState(tenant: "acme", environment: "prod", revision: 5))
        _ = try await answer("b")
        #expect(encodings.value == 3)
    }
}
