import Controller
import Foundation
import NIOSSL
import ServiceSupport
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting
import Testing

/// Clients that never finish a handshake, trickle a request, or hold too many connections are cut off
/// by the listener; nobody can make the controller hold a connection for good.
@Suite struct ListenerLimitsTests {
    /// One-second limits everywhere, so the test waits seconds, not minutes (the handshake gets three,
    /// so a loaded machine still completes the honest ones).
    static func short(_ configuration: inout ControllerConfiguration) {
        for listener in [\ControllerConfiguration.operatorLimits, \.agentLimits, \.enrollLimits] {
            configuration[keyPath: listener].handshakeTimeout = .seconds(3)
            configuration[keyPath: listener].requestHeadTimeout = .seconds(1)
            configuration[keyPath: listener].requestBodyTimeout = .seconds(1)
            configuration[keyPath: listener].idleTimeout = .seconds(3)
        }
        configuration.agentLimits.maxConnectionsPerCertificate = 2
    }

    @Test func aHandshakeThatNeverStartsIsCutOffOnEveryListener() async throws {
        try await withController(configure: Self.short) { fixture in
            for port in [fixture.controller.operatorPort, fixture.controller.agentPort, fixture.controller.enrollPort] {
                let silent = try await RawConnection.connect(port: port, tls: nil)
                let closedAfter = try #require(await silent.closedBy(.seconds(15)), "port \(port) held a silent connection")
                #expect(closedAfter >= .seconds(2))
            }
        }
    }

    @Test func aRequestHeadSentSlowlyIsCutOff() async throws {
        try await withController(configure: Self.short) { fixture in
            let tls = try TLSConfigurations.operatorClient(trustBundle: fixture.pki.caBundle)
            let slow = try await RawConnection.connect(port: fixture.controller.operatorPort, tls: tls)
            try await slow.handshake.get()
            try await slow.write("GET /v1/tenants HTTP/1.1\r\nHost: localhost\r\n")
            // One more header line, then nothing: the head never completes.
            try await slow.write("X-Slow: 1\r\n")
            #expect(await slow.closedBy(.seconds(10)) != nil, "a head that never completes is cut off")
            // The listener still serves everyone else.
            #expect(try await fixture.operatorClient.request(.GET, "/v1/tenants").status == 200)
        }
    }

    @Test func aBodyThatNeverArrivesIsCutOffAndLogsNothingAboveDebug() async throws {
        let logs = CapturedLogs()
        try await withController(logs: logs, configure: Self.short) { fixture in
            let tls = try TLSConfigurations.operatorClient(trustBundle: fixture.pki.caBundle)
            let slow = try await RawConnection.connect(port: fixture.controller.enrollPort, tls: tls)
            try await slow.handshake.get()
            try await slow.write("POST /enroll/v1 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"tenant\":")
            #expect(await slow.closedBy(.seconds(10)) != nil, "a body that never arrives is cut off")
            // Clients abandoning uploads themselves, a hundred times.
            for _ in 0..<100 {
                let quitter = try await RawConnection.connect(port: fixture.controller.enrollPort, tls: tls)
                try await quitter.handshake.get()
                try await quitter.write("POST /enroll/v1 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"t")
                await quitter.close()
            }
            try await Task.sleep(for: .milliseconds(200))  // let the last abandoned requests finish on the server
            let loud = logs.all.filter { $0.level >= .notice }
            let first = loud.first.map { "\($0.level) \($0.message) \($0.metadata)" } ?? ""
            let loudLines = loud.count
            #expect(loudLines == 0, "e.g. \(first)")
        }
    }

    @Test func oneCertificateMayHoldOnlySoManyGatewayConnections() async throws {
        try await withController(seed: .acmeProd, configure: Self.short) { fixture in
            let tls = try TLSConfigurations.agentClient(fixture.pki.agentTLS("acme-prod"))
            let first = try await RawConnection.connect(port: fixture.controller.agentPort, tls: tls)
            let second = try await RawConnection.connect(port: fixture.controller.agentPort, tls: tls)
            try await first.handshake.get()
            try await second.handshake.get()
            let third = try await RawConnection.connect(port: fixture.controller.agentPort, tls: tls)
            #expect(await third.closedBy(.seconds(5)) != nil, "the third connection of one certificate is refused")
            // Another certificate is not affected, and closing one frees a place.
            let globex = try await RawConnection.connect(
                port: fixture.controller.agentPort, tls: try TLSConfigurations.agentClient(fixture.pki.agentTLS("globex-staging")))
            try await globex.handshake.get()
            #expect(await globex.closedBy(.milliseconds(300)) == nil)
            await first.close()
            try await eventually("a place is free again") {
                let next = try await RawConnection.connect(port: fixture.controller.agentPort, tls: tls)
                defer { Task { await next.close() } }
                return await next.closedBy(.milliseconds(300)) == nil
            }
            await second.close()
            await globex.close()
        }
    }

    @Test func idleKeepAliveConnectionsAreClosed() async throws {
        try await withController(configure: Self.short) { fixture in
            let tls = try TLSConfigurations.operatorClient(trustBundle: fixture.pki.caBundle)
            let idle = try await RawConnection.connect(port: fixture.controller.operatorPort, tls: tls)
            try await idle.handshake.get()
            try await idle.write("GET /openapi.yaml HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let closedAfter = try #require(await idle.closedBy(.seconds(15)))
            #expect(closedAfter >= .seconds(2), "kept alive until the idle timeout")
        }
    }
}
