import Controller
import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

/// Agents are upgraded by customers on their own schedule: the controller supports its own minor
/// release and the one before, and marks every other environment so operators can find them.
@Suite struct AgentVersionTests {
    func environment(agent version: String?) -> SplitPlaneProtocol.Environment {
        Environment(
            tenant: "acme", name: "prod", cloud: .aws, mode: .provided, desiredRevision: 1, createdAt: Date(),
            agent: version.map {
                AgentFacts(
                    instance: "i", version: $0, certificateExpiry: nil, rulesLoaded: 0, metricsStoreReachable: nil,
                    desiredRevision: 1)
            })
    }

    @Test(arguments: [
        ("0.3.0", "True", "Supported"), ("0.3.7", "True", "Supported"), ("0.2.9", "True", "Supported"), ("0.3.0-dev", "True", "Supported"),
        ("0.1.4", "False", "AgentOutdated"), ("0.4.0", "False", "AgentNewer"), ("1.3.0", "False", "AgentNewer"),
        ("x", "False", "UnknownVersion"),
    ])
    func sameAndPreviousMinorAreSupported(agent: String, status: String, reason: String) {
        let condition = AgentVersionPolicy(controllerVersion: "0.3.1").condition(for: environment(agent: agent))
        #expect(condition.type == "AgentVersionSupported")
        #expect(condition.status.rawValue == status)
        #expect(condition.reason == reason)
    }

    @Test func noAgentYetIsUnknownNotOutdated() {
        let condition = AgentVersionPolicy(controllerVersion: "0.3.1").condition(for: environment(agent: nil))
        #expect(condition.status == .unknown)
        #expect(condition.reason == "NoAgent")
        #expect(AgentVersionPolicy(controllerVersion: "2.0.0").supportedRange == "2.0.x")
        #expect(AgentVersionPolicy(controllerVersion: "0.3.1").supportedRange == "0.2.x and 0.3.x")
    }

    @Test func semanticVersionsParseAndOrder() {
        #expect(SemanticVersion("v1.2.3-rc.1+g1234") == SemanticVersion(major: 1, minor: 2, patch: 3, prerelease: "rc.1"))
        #expect(SemanticVersion("1.2") == nil)
        #expect(SemanticVersion("1.2.3-") == nil)
        #expect(SemanticVersion("1.2.3-rc.1")! < SemanticVersion("1.2.3")!)
        #expect(SemanticVersion("1.2.3")! < SemanticVersion("1.10.0")!)
    }

    @Test func theBuildVersionFollowsTheVersionFile() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../VERSION").standardized
        let version = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            BuildVersion.current == version + "-dev" || SemanticVersion(BuildVersion.current) != nil,
            "unstamped builds report VERSION-dev; bump BuildInfo.c with VERSION")
        #expect(SemanticVersion(version) != nil)
    }

    @Test func outdatedAgentsAreListedAcrossTenants() async throws {
        try await withController(seed: .twoTenants) { fixture in
            // acme's agent reports a version two minors back; globex's agent is current.
            let current = SemanticVersion(BuildVersion.current)!
            let old = "\(current.major).\(max(current.minor, 2) - 2).0"
            for (agent, version) in [("acme-prod", old), ("globex-staging", BuildVersion.current)] {
                let report = StatusReport(
                    agent: AgentFacts(
                        instance: agent, version: version, certificateExpiry: nil, rulesLoaded: 0,
                        metricsStoreReachable: nil, desiredRevision: 1), workspaces: [])
                #expect(try await fixture.agentClient(agent).request(.PUT, "/agent/v1/status", encoding: report, token: nil).status == 204)
            }
            let outdated = try await fixture.operatorClient.request(.GET, "/v1/environments?agentOutdated=true").decode(ListResponse<Environment>.self)
            if current.minor >= 2 {
                #expect(outdated.items.map { "\($0.tenant)/\($0.name)" } == ["acme/prod"])
                #expect(outdated.items.first?.conditions?.first?.reason == "AgentOutdated")
            }
            let all = try await fixture.operatorClient.request(.GET, "/v1/environments").decode(ListResponse<Environment>.self)
            #expect(all.items.map { "\($0.tenant)/\($0.name)" } == ["acme/prod", "globex/staging"])
            let globex = try await fixture.operatorClient.request(.GET, "/v1/tenants/globex/environments/staging").decode(Environment.self)
            #expect(globex.conditions?.first?.status == .true)
            #expect(try await fixture.operatorClient.request(.GET, "/v1/environments?agentOutdated=maybe").status == 400)
        }
    }
}
