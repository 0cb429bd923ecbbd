import Controller
import Foundation
import SplitPlaneProtocol
import SplitPlaneTLS
import SplitPlaneTesting
import Testing

/// The alerting operator API and the Slack interactions endpoint, on a real controller over TLS.
@Suite struct AlertingAPITests {
    static let signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"

    /// Routes everything to a receiver that notifies nobody, holding groups an hour: the API is what is tested.
    static let routing = "route:\n  receiver: none\n  group_wait: 1h\nreceivers:\n  - name: none\n"

    func fireAlert(_ f: ControllerFixture) async throws -> String {
        let batch = AlertBatch(
            instance: "i1", sequence: 1,
            alerts: [
                AgentAlert(
                    workspace: "analytics", state: .firing,
                    labels: ["alertname": "BackendDown", "severity": "critical"],
                    annotations: [:], startsAt: Date())
            ])
        #expect(try await f.agentClient("acme-prod").request(.POST, "/agent/v1/alerts", encoding: batch, token: nil).status == 200)
        let groups = try await f.operatorClient.request(.GET, "/v1/alert-groups").decode(ListResponse<AlertGroup>.self).items
        #expect(groups.count == 1)
        #expect(groups.first?.groupLabels == ["tenant": "acme", "environment": "prod", "alertname": "BackendDown"])
        return try #require(groups.first?.id)
    }

    @Test func acknowledgeAndUnacknowledgeThroughTheAPI() async throws {
        try await withController(seed: .acmeProdAnalytics, routingConfig: Self.routing, slackSigningSecret: Self.signingSecret) { f in
            let id = try await fireAlert(f)
            let acked = try await f.operatorClient.request(.POST, "/v1/alert-groups/\(id)/ack", json: #"{"by":"alice","comment":"on it"}"#)
            #expect(acked.status == 200)
            #expect(try acked.decode(AlertGroup.self).acknowledgement?.by == "alice")
            let detail = try await f.operatorClient.request(.GET, "/v1/alert-groups/\(id)").decode(AlertGroup.self)
            #expect(detail.acknowledgement?.comment == "on it" && detail.acknowledgement?.via == "api")
            #expect(detail.alerts?.map { $0.labels["alertname"] } == ["BackendDown"])
            let unacked = try await f.operatorClient.request(.POST, "/v1/alert-groups/\(id)/unack", body: nil)
            #expect(try unacked.decode(AlertGroup.self).acknowledgement == nil)
            #expect(try await f.operatorClient.request(.GET, "/v1/alert-groups?tenant=globex").decode(ListResponse<AlertGroup>.self).items.isEmpty)
        }
    }

    @Test func refusesBadAcknowledgementsAndChangesNothing() async throws {
        try await withController(seed: .acmeProdAnalytics, routingConfig: Self.routing, slackSigningSecret: Self.signingSecret) { f in
            let id = try await fireAlert(f)
            let unknown = try await f.operatorClient.request(.POST, "/v1/alert-groups/0123456789abcdef/ack", json: "{}")
            #expect(unknown.status == 404 && unknown.problem?.detail.contains("not found") == true)
            let malformed = try await f.operatorClient.request(.POST, "/v1/alert-groups/not-an-id/ack", json: "{}")
            #expect(malformed.status == 404)
            let extra = try await f.operatorClient.request(.POST, "/v1/alert-groups/\(id)/ack", json: #"{"by":"alice","until":"tomorrow"}"#)
            #expect(extra.status == 400 && extra.problem?.detail.contains("until") == true)
            let noToken = try await f.operatorClient.request(.POST, "/v1/alert-groups/\(id)/ack", json: "{}", token: nil)
            #expect(noToken.status == 401)
            let group = try await f.operatorClient.request(.GET, "/v1/alert-groups/\(id)").decode(AlertGroup.self)
            #expect(group.acknowledgement == nil)
        }
    }

    @Test func slackButtonAcknowledgesOnlyWithAValidFreshSignature() async throws {
        try await withController(seed: .acmeProdAnalytics, routingConfig: Self.routing, slackSigningSecret: Self.signingSecret) { f in
            let id = try await fireAlert(f)
            let receiver = try await WebhookTestServer.start()
            defer { Task { try? await receiver.stop() } }
            // The clicked message as Slack sends it back, and where to replace it (Slack's hooks; here a local stand-in).
            let message =
                #"{"text":"[FIRING:1] CRITICAL A","blocks":[{"type":"header","text":{"type":"plain_text","text":"A"}},{"type":"actions","block_id":"qbeast-group-\#(id)","elements":[{"type":"button","action_id":"qbeast_ack","value":"\#(id)"}]}]}"#
            let payload =
                #"{"type":"block_actions","user":{"id":"U123","username":"alice"},"response_url":"\#(receiver.url("/actions/T1/123/abc"))","message":\#(message),"actions":[{"action_id":"qbeast_ack","value":"\#(id)","type":"button"}]}"#
            let body = "payload=" + payload.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let signer = SlackSignature(signingSecret: Self.signingSecret)
            func post(timestamp: Date, signature: String? = nil) async throws -> TestResponse {
                let ts = String(Int(timestamp.timeIntervalSince1970))
                return try await f.operatorClient.request(
                    .POST, "/slack/interactions", body: Data(body.utf8), token: nil,
                    contentType: "application/x-www-form-urlencoded",
                    headers: [
                        "X-Slack-Request-Timestamp": ts,
                        "X-Slack-Signature": signature ?? signer.signature(timestamp: ts, body: Data(body.utf8)),
                    ])
            }
            let forged = try await post(timestamp: Date(), signature: SlackSignature(signingSecret: "wrong").signature(timestamp: "1", body: Data()))
            #expect(forged.status == 401 && forged.problem?.detail.contains("does not match") == true)
            let stale = try await post(timestamp: Date().addingTimeInterval(-301))
            #expect(stale.status == 401 && stale.problem?.detail.contains("at most 300s") == true)
            #expect(
                try await f.operatorClient.request(.GET, "/v1/alert-groups/\(id)").decode(AlertGroup.self).acknowledgement == nil,
                "forged and stale requests change nothing")

            let clock = ContinuousClock()
            let start = clock.now
            let good = try await post(timestamp: Date())
            #expect(good.status == 200)
            #expect(clock.now - start < .seconds(3), "Slack waits at most three seconds")
            let ack = try await f.operatorClient.request(.GET, "/v1/alert-groups/\(id)").decode(AlertGroup.self).acknowledgement
            #expect(ack?.by == "alice" && ack?.via == "slack")
            // The clicked message is replaced in the channel: the button gone, who acknowledged shown.
            try await eventually("the message replaced through response_url") { receiver.received.contains { $0.path == "/actions/T1/123/abc" } }
            let update = try #require(receiver.received.first { $0.path == "/actions/T1/123/abc" }?.json)
            #expect(update["replace_original"] == .bool(true))
            let blocks = update["blocks"]?.arrayValue ?? []
            #expect(blocks.first?["type"] == "header" && !blocks.contains { $0["type"] == "actions" })
            #expect(blocks.last?["elements"]?[0]?["text"]?.stringValue?.hasPrefix("✅ Acknowledged by *alice* via Slack") == true)
        }
    }

    @Test func theAcknowledgedMessageGoesOnlyToSlacksOwnHooks() {
        #expect(SlackAcknowledgedMessage.isSlackResponseURL("https://hooks.slack.com/actions/T1/1/abc") != nil)
        #expect(SlackAcknowledgedMessage.isSlackResponseURL("http://hooks.slack.com/actions/T1/1/abc") == nil, "never in clear text")
        #expect(SlackAcknowledgedMessage.isSlackResponseURL("https://hooks.slack.com.evil.example/x") == nil)
        #expect(SlackAcknowledgedMessage.isSlackResponseURL("https://evil.example/hooks.slack.com") == nil)
        #expect(SlackAcknowledgedMessage.isSlackResponseURL("http://10.0.0.1/x") == nil)
        #expect(SlackAcknowledgedMessage.isSlackResponseURL("http://127.0.0.1:8045/actions/x") != nil, "the tests' and the demo's stand-in")
        let escaped = SlackAcknowledgedMessage.replacing(["text": "t", "blocks": []], by: "<!channel> & co", at: Date(timeIntervalSince1970: 0))
        #expect(
            escaped["blocks"]?[0]?["elements"]?[0]?["text"]?.stringValue?.contains("*&lt;!channel&gt; &amp; co*") == true,
            "a user name cannot mention the channel")
    }

    @Test func signatureCheckFollowsSlacksAlgorithm() throws {
        // The example from Slack's "Verifying requests from Slack" documentation.
        let signer = SlackSignature(signingSecret: "8f742231b10e8888abcd99yyyzzz85a5")
        let body = Data(
            "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
                .utf8)
        #expect(signer.signature(timestamp: "1531420618", body: body) == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
        let at = Date(timeIntervalSince1970: 1_531_420_618 + 10)
        #expect(throws: Never.self) {
            try signer.verify(timestamp: "1531420618", signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", body: body, at: at)
        }
        #expect(throws: SlackSignature.Refusal.mismatch) { try signer.verify(timestamp: "1531420618", signature: "v0=00", body: body, at: at) }
        #expect(throws: SlackSignature.Refusal.missingHeaders) { try signer.verify(timestamp: nil, signature: "v0=00", body: body, at: at) }
        // Found by schemathesis: these must be refused, not crash the controller.
        for timestamp in ["1e308", "inf", "-inf", "nan", "99999999999999999999", "", " 1531420618"] {
            #expect(throws: SlackSignature.Refusal.badTimestamp, "\(timestamp)") {
                try signer.verify(timestamp: timestamp, signature: "v0=00", body: body, at: at)
            }
        }
        #expect(throws: SlackSignature.Refusal.stale(seconds: 1_531_420_628)) { try signer.verify(timestamp: "0", signature: "v0=00", body: body, at: at) }
    }

    @Test func silencesAreValidatedCreatedListedAndExpired() async throws {
        try await withController(seed: .acmeProdAnalytics, routingConfig: Self.routing, slackSigningSecret: Self.signingSecret) { f in
            for (json, detail) in [
                (#"{"matchers":["severity=~\"(\""],"duration":"1h","createdBy":"a","comment":"x"}"#, "matchers[0]"),
                (#"{"matchers":["severity=~\".*\""],"duration":"1h","createdBy":"a","comment":"x"}"#, "mute every alert"),
                (#"{"matchers":["severity=\"warning\""],"duration":"soon","createdBy":"a","comment":"x"}"#, "duration"),
                (#"{"matchers":["severity=\"warning\""],"createdBy":"a","comment":"x"}"#, "endsAt or duration"),
                (#"{"matchers":["severity=\"warning\""],"duration":"1h","createdBy":"a","comment":""}"#, "comment"),
                (#"{"matchers":["severity=\"warning\""],"duration":"1h","createdBy":"a","comment":"x","scope":"all"}"#, "scope"),
            ] {
                let response = try await f.operatorClient.request(.POST, "/v1/silences", json: json)
                #expect(response.status == 400, "\(json)")
                #expect(response.problem?.detail.contains(detail) == true, "\(response.text)")
            }
            #expect(try await f.operatorClient.request(.GET, "/v1/silences").decode(ListResponse<Silence>.self).items.isEmpty)
            let created = try await f.operatorClient.request(
                .POST, "/v1/silences",
                json: #"{"matchers":["tenant=acme","severity!=critical"],"duration":"2h","createdBy":"alice","comment":"upgrade"}"#)
            #expect(created.status == 201)
            let silence = try created.decode(Silence.self)
            #expect(silence.state == .active && silence.matchers == [#"tenant="acme""#, #"severity!="critical""#])
            #expect(silence.endsAt.timeIntervalSince(silence.startsAt) == 7200)
            let expired = try await f.operatorClient.request(.DELETE, "/v1/silences/\(silence.id)")
            #expect(try expired.decode(Silence.self).state == .expired)
            #expect(try await f.operatorClient.request(.DELETE, "/v1/silences/\(silence.id)").status == 409)
            #expect(try await f.operatorClient.request(.DELETE, "/v1/silences/nope").status == 404)
        }
    }

    @Test func routingConfigIsShownAndAReloadThatFailsKeepsTheRunningOne() async throws {
        try await withController(seed: .acmeProdAnalytics, routingConfig: Self.routing, slackSigningSecret: Self.signingSecret) { f in
            var shown = try await f.operatorClient.request(.GET, "/v1/routing-config").decode(JSONValue.self)
            #expect(shown["route"]?["group_wait"] == "1h" && shown["route"]?["repeat_interval"] == "4h")
            try "route:\n  receiver: nobody\nreceivers:\n  - name: none\n".write(toFile: f.routingConfigPath, atomically: true, encoding: .utf8)
            let refused = try await f.operatorClient.request(.POST, "/v1/routing-config/reload", body: nil)
            #expect(refused.status == 422)
            #expect(refused.problem?.detail.contains("line 2: route.receiver: unknown receiver \"nobody\"") == true, "\(refused.text)")
            shown = try await f.operatorClient.request(.GET, "/v1/routing-config").decode(JSONValue.self)
            #expect(shown["route"]?["receiver"] == "none", "the running configuration stays")

            try "route:\n  receiver: none\n  group_wait: 0s\n  repeat_interval: never\nreceivers:\n  - name: none\n".write(
                toFile: f.routingConfigPath, atomically: true, encoding: .utf8)
            let reloaded = try await f.operatorClient.request(.POST, "/v1/routing-config/reload", body: nil)
            #expect(reloaded.status == 200)
            shown = try reloaded.decode(JSONValue.self)
            #expect(shown["route"]?["group_wait"] == "0s" && shown["route"]?["repeat_interval"] == "never")
        }
    }
}
