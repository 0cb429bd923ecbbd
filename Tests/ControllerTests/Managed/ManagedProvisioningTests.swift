import Agent
import Foundation
import Logging
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Controller

/// A managed environment from creation to teardown against the Crossplane stand-in (no Crossplane or
/// cloud runs here): the XR applied once cloud access is recorded, a blocked composed resource named
/// with the provider's error (API and `qbctl describe env`), the hand-over token in a Secret, a real
/// agent enrolling with it, and a confirmed delete that waits for every composed resource to go.
@Suite(.serialized) struct ManagedProvisioningTests {
    @Test(arguments: TestStoreKind.allCases) func aManagedEnvironmentIsProvisionedHandedOverAndDeprovisioned(_ kind: TestStoreKind) async throws {
        try await ManagedHarness.run(store: kind) { h in
            let api = h.fixture.operatorClient
            let namespace = ManagedHarness.namespace

            // Without cloud access nothing is applied, and the condition says what to do.
            await h.provisioner.reconcileAll()
            let missing = try #require(try await h.provisioned())
            #expect(missing.status == .false && missing.reason == "CloudAccessMissing" && missing.message.contains("set-cloud-access"))
            #expect(h.kube.objects(apiVersion: "platform.qbeast.io/v1alpha1", kind: "QbeastEnvironment", namespace: nil).isEmpty)

            // Cloud access recorded: the XR as crossplane/README.md's contract has it, hand-over off.
            try await h.fixture.mustSucceed(.PUT, "/v1/tenants/acme/environments/dev/cloud-access", json: ManagedHarness.awsAccess)
            await h.provisioner.reconcileAll()
            let xr = try #require(h.xr())
            #expect(xr["spec"]?["crossplane"]?["compositionSelector"]?["matchLabels"]?["platform.qbeast.io/cloud"] == "aws")
            #expect(xr["spec"]?["tenant"] == "acme" && xr["spec"]?["environment"] == "dev" && xr["spec"]?["region"] == "eu-west-1")
            #expect(xr["spec"]?["cloudAccess"]?["aws"]?["roleArn"] == "arn:aws:iam::444455556666:role/qbeast-acme-dev-access")
            let externalID = try #require(xr["spec"]?["cloudAccess"]?["aws"]?["externalId"]?.stringValue)
            let template = try await api.request(.GET, "/v1/tenants/acme/environments/dev/onboarding/aws").text
            #expect(externalID.hasPrefix("qbeast-") && template.contains("sts:ExternalId: \(externalID)"), "the external ID the template trusts")
            #expect(xr["spec"]?["agent"]?["enabled"] == .bool(false) && xr["spec"]?["agent"]?["enrollmentTokenSecretName"] == nil)
            #expect(try await h.provisioned()?.reason == "Composing")
            #expect(try await h.audit("provision").count == 1)

            // Crossplane composes; the EKS cluster hits the account's quota.
            try await h.crossplane.compose(namespace: namespace, name: "dev")
            let quota = "create failed: operation error EKS: CreateCluster, api error LimitExceededException: Cannot exceed quota for ClustersPerRegion: 100"
            h.crossplane.block("cluster", namespace: namespace, name: "dev", message: quota)
            await h.provisioner.reconcileAll()
            let blocked = try #require(try await h.provisioned())
            #expect(blocked.status == .false && blocked.reason == "ResourceFailing")
            #expect(blocked.message.hasPrefix("cluster: ReconcileError: ") && blocked.message.contains("LimitExceededException"), "\(blocked.message)")
            let resources = try await h.environment().provisioning?.resources ?? []
            #expect(resources.map(\.compositionName) == ["provider-config", "vpc", "cluster", "node-group", "bucket"])
            let described = try await h.qbctl(["describe", "env", "dev", "-t", "acme"])
            #expect(described.code == 0, "\(described.output)")
            #expect(described.output.contains("COMPOSED RESOURCES") && described.output.contains("LimitExceededException"), "\(described.output)")
            for name in ["provider-config", "vpc", "node-group", "bucket"] { #expect(described.output.contains(name)) }

            // Unblocked and ready: hand-over with a one-time token in a Secret, never in the XR.
            h.crossplane.makeAllReady(namespace: namespace, name: "dev")
            await h.provisioner.reconcileAll()
            let handedOver = try #require(h.xr())
            #expect(handedOver["spec"]?["agent"]?["enabled"] == .bool(true))
            #expect(handedOver["spec"]?["agent"]?["enrollmentTokenSecretName"] == "dev-enrollment-token")
            let token = try #require(h.crossplane.handOverToken(namespace: namespace, secretName: "dev-enrollment-token"))
            #expect(token.hasPrefix("qbe_"))
            #expect(!String(decoding: try JSONEncoder().encode(handedOver), as: UTF8.self).contains(token), "the token is not in the XR")
            #expect(try await h.provisioned()?.reason == "HandingOver")
            #expect(try await h.audit("handover").count == 1)
            #expect(try await h.crossplane.installAgent(namespace: namespace, name: "dev"))
            await h.provisioner.reconcileAll()
            #expect(try await h.provisioned()?.status == .true)

            // The agent in the new cluster enrolls with the token Crossplane copied there.
            let tokenFile = h.fixture.directory.path("handover-token")
            try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let state = h.fixture.directory.path("managed-agent")
            let tls = try await AgentEnrollment.credentials(
                stateDirectory: state, configured: nil, caBundle: h.fixture.pki.caBundle,
                enrollment: EnrollmentSettings(url: h.fixture.controller.enrollURL, tenant: "acme", environment: "dev", tokenFile: tokenFile),
                trustDomain: h.fixture.pki.trustDomain, logger: Logger(label: "test"))
            let agent = try TestAgent.start(tls: tls, controllerURL: h.fixture.controller.agentURL, stateDirectory: state)
            try await h.fixture.mustSucceed(.PUT, "/v1/tenants/acme/environments/dev/workspaces/analytics", json: #"{"spec":{}}"#)
            try await eventually("the agent reports the workspace") {
                let workspace = try await api.request(.GET, "/v1/tenants/acme/environments/dev/workspaces/analytics").decode(Workspace.self)
                return workspace.status?.observedGeneration == 1
            }
            try await h.fixture.mustSucceed(.DELETE, "/v1/tenants/acme/environments/dev/workspaces/analytics", json: "")
            try await agent.stop()

            // Teardown: refused without confirmation (qbctl too), then the XR goes resource by resource.
            let refused = try await h.qbctl(["env", "delete", "acme", "dev"])
            #expect(refused.code != 0 && refused.output.contains("confirm"), "\(refused.output)")
            #expect(h.xr()?["metadata"]?["deletionTimestamp"] == nil)
            let confirmed = try await h.qbctl(["env", "delete", "acme", "dev", "--confirm-deprovision"])
            #expect(confirmed.code == 0 && confirmed.output.contains("deprovisioning"), "\(confirmed.output)")
            await h.provisioner.reconcileAll()
            #expect(h.xr()?["metadata"]?["deletionTimestamp"] != nil)
            #expect(try await h.audit("deprovision").count == 1)
            var steps = 0
            while try await h.crossplane.teardownStep(namespace: namespace, name: "dev") {
                steps += 1
                await h.provisioner.reconcileAll()
                let left = CrossplaneStandIn.composed.count - steps
                guard left > 0 else { continue }
                let condition = try #require(try await h.environment().conditions?[type: "Deprovisioning"])
                #expect(condition.status == .true && condition.message.contains("waiting for \(left) composed resource(s)"), "\(condition.message)")
                #expect(try await h.environment().provisioning?.resources.allSatisfy { $0.deleting == true } == true)
            }
            #expect(steps == CrossplaneStandIn.composed.count + 1, "one finalizer at a time, the XR's last")
            await h.provisioner.reconcileAll()
            #expect(h.xr() == nil)
            #expect(try await api.request(.GET, "/v1/tenants/acme/environments/dev").status == 404)
            #expect(h.kube.object(apiVersion: "v1", kind: "Secret", namespace: namespace, name: "dev-enrollment-token") == nil)
            #expect(try await h.audit("deprovisioned").count == 1)
        }
    }

    @Test func anXRDeletedOutOfBandIsAppliedAgainAndAudited() async throws {
        try await ManagedHarness.run { h in
            try await h.fixture.mustSucceed(.PUT, "/v1/tenants/acme/environments/dev/cloud-access", json: ManagedHarness.awsAccess)
            await h.provisioner.reconcileAll()
            #expect(h.xr() != nil)
            h.kube.remove(apiVersion: "platform.qbeast.io/v1alpha1", kind: "QbeastEnvironment", namespace: ManagedHarness.namespace, name: "dev")
            #expect(h.xr() == nil)
            await h.provisioner.reconcileAll()
            #expect(h.xr() != nil)
            let reapplied = try await h.audit("reapply")
            #expect(reapplied.count == 1 && reapplied.first?.detail?.contains("outside the controller") == true)
            await h.provisioner.reconcileAll()
            #expect(try await h.audit("reapply").count == 1, "only when it was actually gone")
        }
    }

    @Test func crossplaneUnreachableIsUnknownAndRecoversWithoutRerunning() async throws {
        try await ManagedHarness.run { h in
            try await h.fixture.mustSucceed(.PUT, "/v1/tenants/acme/environments/dev/cloud-access", json: ManagedHarness.awsAccess)
            let outage = h.kube.inject(failure: .init(code: 503, reason: "ServiceUnavailable", message: "the Crossplane API server is down"))
            #expect(await h.provisioner.reconcileAll() == false)
            let unknown = try #require(try await h.provisioned())
            #expect(unknown.status == .unknown && unknown.reason == "CrossplaneUnreachable" && unknown.message.contains("the Crossplane API server is down"))
            #expect(h.xr() == nil)
            // Backoff: from resync/8, doubling, capped; back to the resync interval once it answers.
            let wait = { (failures: Int) in ManagedEnvironmentProvisioner.wait(afterFailures: failures, resync: .seconds(30), maxBackoff: .seconds(300)) }
            #expect([wait(0), wait(1), wait(2), wait(3), wait(8)] == [.seconds(30), .milliseconds(3750), .milliseconds(7500), .seconds(15), .seconds(300)])
            h.kube.lift(outage)
            #expect(await h.provisioner.reconcileAll())
            #expect(h.xr() != nil)
            #expect(try await h.provisioned()?.reason == "Composing")
        }
    }

    @Test func theHandOverTokenIsRenewedWhenItExpiresUnused() async throws {
        try await ManagedHarness.run { h in
            let namespace = ManagedHarness.namespace
            try await h.fixture.mustSucceed(.PUT, "/v1/tenants/acme/environments/dev/cloud-access", json: ManagedHarness.awsAccess)
            await h.provisioner.reconcileAll()
            try await h.crossplane.compose(namespace: namespace, name: "dev")
            h.crossplane.makeAllReady(namespace: namespace, name: "dev")
            await h.provisioner.reconcileAll()
            let first = try #require(h.crossplane.handOverToken(namespace: namespace, secretName: "dev-enrollment-token"))
            await h.provisioner.reconcileAll()
            #expect(h.crossplane.handOverToken(namespace: namespace, secretName: "dev-enrollment-token") == first, "still valid: kept")
            h.clock.advance(by: .seconds(16 * 60))
            await h.provisioner.reconcileAll()
            let second = try #require(h.crossplane.handOverToken(namespace: namespace, secretName: "dev-enrollment-token"))
            #expect(second != first)
            #expect(try await h.audit("handover-token-renewed").count == 1)
        }
    }
}
