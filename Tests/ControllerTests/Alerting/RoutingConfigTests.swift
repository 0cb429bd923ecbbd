import AlertRouting
import Controller
import Foundation
import SplitPlaneTesting
import Testing

@Suite struct LabelMatcherTests {
    @Test func parsesAndMatchesLikeAlertmanager() throws {
        let critical = try LabelMatcher.parse(#"severity="critical""#)
        #expect(critical.matches(["severity": "critical"]))
        #expect(!critical.matches(["severity": "warning"]))
        let notInfo = try LabelMatcher.parse("severity!=info")
        #expect(notInfo.matches([:]), "a missing label is the empty string")
        let team = try LabelMatcher.parse(#"team=~"data|ml""#)
        #expect(team.matches(["team": "ml"]))
        #expect(!team.matches(["team": "mlops"]), "regexes are anchored")
        let notTest = try LabelMatcher.parse(#"environment !~ "test-.*""#)
        #expect(notTest.matches(["environment": "prod"]))
        #expect(!notTest.matches(["environment": "test-1"]))
    }

    @Test func aMatcherWhoseRegexRunsAwayMatchesNothingAndReturnsAtOnce() throws {
        let clock = ContinuousClock()
        let started = clock.now
        let value = String(repeating: "a", count: 2000) + "b"
        #expect(!(try LabelMatcher.parse(#"instance=~"(a|aa)+""#).matches(["instance": value])), "a silence with it mutes nothing")
        #expect(!(try LabelMatcher.parse(#"instance!~"(a|aa)+""#).matches(["instance": value])))
        #expect(clock.now - started < .seconds(5))
    }

    @Test(arguments: ["severity", "9x=1", #"a=~"(""#, #"a="open"#])
    func refusesBadMatchers(_ text: String) {
        #expect(throws: RoutingConfigError.self) { try LabelMatcher.parse(text) }
    }
}

@Suite struct RoutingConfigTests {
    static let yaml = """
        route:
          receiver: team-slack
          group_by: [tenant, environment, alertname]
          routes:
            - matchers: ['severity="critical"']
              receiver: oncall
              repeat_interval: 15m
              continue: true
            - matchers: ['severity="critical"']
              receiver: audit-webhook
            - matchers: ['severity="info"']
              receiver: team-slack
              group_wait: 1m
        receivers:
          - name: team-slack
          - name: oncall
          - name: audit-webhook
        """

    @Test func routesBySeverityWithContinueAndInheritance() throws {
        let config = try RoutingConfig.parse(yaml: Self.yaml)
        let critical = config.root.match(["alertname": "Down", "severity": "critical"])
        #expect(critical.map(\.receiver) == ["oncall", "audit-webhook"])
        #expect(critical[0].repeatInterval == .seconds(900))
        #expect(critical[1].repeatInterval == .seconds(4 * 3600), "inherited from the root default")
        #expect(critical[0].groupBy == ["tenant", "environment", "alertname"])
        let info = config.root.match(["severity": "info"])
        #expect(info.map(\.path) == ["route.routes[2]"])
        #expect(info[0].groupWait == .seconds(60))
        #expect(config.root.match(["severity": "warning"]).map(\.receiver) == ["team-slack"], "no child matched: the root takes it")
    }

    @Test func invalidConfigurationsNameTheLineAndTheReason() {
        func error(_ yaml: String) -> String {
            do {
                _ = try RoutingConfig.parse(yaml: yaml)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(error("route:\n  receiver: nobody\nreceivers:\n  - name: a\n") == "line 2: route.receiver: unknown receiver \"nobody\"; declared: a")
        #expect(
            error("route:\n  receiver: a\n  routes:\n    - matchers: ['x=~\"(\"']\nreceivers:\n  - name: a\n")
                .hasPrefix("line 4: route.routes[0].matchers[0]: matcher x=~\"(\": the regular expression does not compile"))
        #expect(error("route:\n  receiver: a\n  group_wiat: 1m\nreceivers:\n  - name: a\n") == "line 3: route.group_wiat: unknown field")
        #expect(error("route:\n  receiver: a\n  repeat_interval: soon\nreceivers:\n  - name: a\n").hasPrefix("line 3: route.repeat_interval:"))
        #expect(error("route: [\n").hasPrefix("not valid YAML"))
        #expect(error("receivers:\n  - name: a\n") == "`route` is required")
    }

    @Test func slackWebhookURLsComeOnlyFromAFileOrTheEnvironmentAndAreNeverShown() throws {
        func error(_ receiver: String, environment: [String: String] = [:]) -> String {
            do {
                _ = try RoutingConfig.parse(
                    yaml: "route:\n  receiver: s\nreceivers:\n  - name: s\n    slack_configs:\n      - \(receiver)\n",
                    environment: environment)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(error("webhook_url: https://hooks.slack.com/services/T/B/secret") == "line 6: receivers[0].slack_configs[0].webhook_url: unknown field")
        #expect(error("webhook_url_env: SLACK_URL") == "line 6: receivers[0].slack_configs[0].webhook_url_env: environment variable SLACK_URL is not set")
        #expect(
            error("webhook_url_env: SLACK_URL", environment: ["SLACK_URL": "not a url with secret"])
                == "line 6: receivers[0].slack_configs[0].webhook_url_env: the URL from SLACK_URL is not an http(s) URL")
        let config = try RoutingConfig.parse(
            yaml: "route:\n  receiver: s\nreceivers:\n  - name: s\n    slack_configs:\n      - webhook_url_env: SLACK_URL\n",
            environment: ["SLACK_URL": "https://hooks.slack.com/services/T/B/secret"])
        let integration = try #require(config.receivers.first?.integrations.first)
        #expect(integration.id == "s/slack[0]" && integration.url.url.path.hasSuffix("/secret"))
        #expect("\(integration.url)" == "<webhook_url_env: SLACK_URL>")
    }

    @Test func slackAppTokensComeOnlyFromAFileOrTheEnvironmentWithAChannelIDAndAreNeverShown() throws {
        func parse(_ receiver: String, environment: [String: String] = ["SLACK_TOKEN": "xoxb-1-secret"]) throws -> RoutingConfig {
            try RoutingConfig.parse(
                yaml: "route:\n  receiver: s\nreceivers:\n  - name: s\n    slack_configs:\n      - \(receiver)\n",
                environment: environment)
        }
        func error(_ receiver: String, environment: [String: String] = ["SLACK_TOKEN": "xoxb-1-secret"]) -> String {
            do {
                _ = try parse(receiver, environment: environment)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let config = try parse("{app_token_env: SLACK_TOKEN, channel: C0123ABCDEF}")
        let integration = try #require(config.receivers.first?.integrations.first)
        #expect(integration.url.url.absoluteString == "https://slack.com/api/chat.postMessage" && integration.channel == "C0123ABCDEF")
        #expect(integration.appToken?.value == "xoxb-1-secret" && "\(integration.appToken!)" == "<app_token_env: SLACK_TOKEN>")
        #expect(!"\(config)".contains("xoxb-1-secret"), "the token is never shown")
        #expect(error("{app_token_env: SLACK_TOKEN, channel: \"#alerts\"}").contains("`channel` must be the channel's ID (such as C0123ABCDEF"))
        #expect(error("{app_token_env: SLACK_TOKEN}").contains("`channel` must be the channel's ID"))
        #expect(
            error("{app_token_env: SLACK_TOKEN, webhook_url_env: SLACK_TOKEN, channel: C0123ABCDEF}")
                .contains("set either an incoming webhook (`webhook_url_file`/`webhook_url_env`) or an app token"))
        #expect(error("{app_token: xoxb-inline, channel: C0123ABCDEF}") == "line 6: receivers[0].slack_configs[0].app_token: unknown field")
        #expect(error("{app_token_env: NOPE, channel: C0123ABCDEF}").hasSuffix("environment variable NOPE is not set"))
        #expect(error("{app_token_file: /nonexistent/token, channel: C0123ABCDEF}").hasSuffix("cannot read /nonexistent/token"))
        #expect(
            error("{webhook_url_env: SLACK_TOKEN, app_url: https://slack.example/api/chat.postMessage}")
                .contains("`app_url` needs an app token"))
        #expect(
            error("{app_token_env: SLACK_TOKEN, channel: C0123ABCDEF, app_url: https://slack.example/hooks}")
                .contains("expected the https URL of Slack's chat.postMessage method (http only to loopback)"))
        #expect(
            error("{app_token_env: SLACK_TOKEN, channel: C0123ABCDEF, app_url: http://slack.example/api/chat.postMessage}")
                .contains("expected the https URL"), "the token never travels in clear text off the machine")
        #expect(
            try parse("{app_token_env: SLACK_TOKEN, channel: C0123ABCDEF, app_url: http://127.0.0.1:8045/api/chat.postMessage}")
                .receivers.first?.integrations.first?.url.url.port == 8045)
        #expect(
            error("{app_token_env: SLACK_TOKEN, channel: C0123ABCDEF}", environment: ["SLACK_TOKEN": "xoxb with space"])
                .hasSuffix("the token from SLACK_TOKEN is empty or contains whitespace"))
    }

    @Test func theExampleRoutingFileParses() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/routing.yaml")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try "xoxb-example".write(toFile: directory.path("bot-token"), atomically: true, encoding: .utf8)
        let yaml = try String(contentsOf: example, encoding: .utf8).replacingOccurrences(of: "/etc/qbeast/slack/bot-token", with: directory.path("bot-token"))
        let config = try RoutingConfig.parse(yaml: yaml, environment: ["QBEAST_SLACK_TEAM_WEBHOOK": "https://hooks.slack.com/services/T/B/x"])
        #expect(config.receivers.first { $0.name == "oncall-slack" }?.integrations.first?.appToken != nil)
    }

    @Test func routeExtensionsAndInhibitRules() throws {
        let config = try RoutingConfig.parse(
            yaml: """
                route:
                  receiver: a
                  routes:
                    - matchers: [severity=info]
                      repeat_interval: never
                      send_resolved: false
                    - matchers: [severity=warning]
                      ack_timeout: 2h
                receivers:
                  - name: a
                    webhook_configs:
                      - url: http://127.0.0.1:9/hook
                        max_alerts: 5
                inhibit_rules:
                  - source_matchers: [severity=critical]
                    target_matchers: [severity=warning]
                    equal: [tenant, environment]
                """)
        let info = config.root.match(["severity": "info"])[0]
        #expect(info.repeatInterval == nil && info.sendResolved == false)
        #expect(config.root.match(["severity": "warning"])[0].ackTimeout == .seconds(7200))
        #expect(config.receivers[0].integrations[0].maxAlerts == 5)
        #expect(config.inhibitRules.first?.equal == ["tenant", "environment"])
        #expect(throws: RoutingConfigError.self) {
            try RoutingConfig.parse(yaml: "route:\n  receiver: a\nreceivers:\n  - name: a\ninhibit_rules:\n  - target_matchers: [a=b]\n")
        }
    }
}
