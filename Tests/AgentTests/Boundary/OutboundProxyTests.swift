import ServiceSupport
import Testing

@testable import Agent

/// `HTTPS_PROXY` / `NO_PROXY` as the agent reads them.
struct OutboundProxyTests {
    @Test func readsTheProxyAndItsCredentialsFromTheEnvironment() throws {
        let proxy = try #require(
            try OutboundProxy.fromEnvironment(["https_proxy": "http://svc%40corp:p%3Ass@proxy.corp:8080", "NO_PROXY": "localhost, .internal"]))
        #expect(proxy.host == "proxy.corp" && proxy.port == 8080)
        #expect(proxy.username == "svc@corp" && proxy.password == "p:ss")
        #expect("\(proxy)" == "http://***@proxy.corp:8080", "credentials never printed")
        #expect(proxy.applies(to: "agents.qbeast.io"))
        #expect(!proxy.applies(to: "localhost"))
        #expect(!proxy.applies(to: "vm.internal") && !proxy.applies(to: "internal"))
        #expect(proxy.configuration(for: ["localhost"]) == nil)
        #expect(proxy.configuration(for: ["agents.qbeast.io"]) != nil)
        #expect(try OutboundProxy.fromEnvironment([:]) == nil)
        #expect(try OutboundProxy.fromEnvironment(["HTTPS_PROXY": "proxy:3128"])?.port == 3128)
    }

    @Test func refusesWhatItCannotUseNamingTheVariableNotThePassword() {
        func refusal(_ value: String) -> String? {
            do {
                _ = try OutboundProxy.fromEnvironment(["HTTPS_PROXY": value])
                return nil
            } catch { return "\(error)" }
        }
        #expect(refusal("https://proxy:443")?.hasPrefix("HTTPS_PROXY: scheme \"https\" is not supported") == true)
        #expect(refusal("socks5://proxy:1080") != nil)
        #expect(refusal("http://user@proxy:3128")?.contains("user:password") == true)
        #expect(refusal("http://proxy:3128/path") != nil)
        #expect(refusal("http://u:hunter2@").map { !$0.contains("hunter2") } == true)
    }
}
