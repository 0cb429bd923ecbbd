import SplitPlaneProtocol

extension ObservabilityStack {
    /// The single way in for Qbeast support: oauth2-proxy against the same issuer, in front of vmui,
    /// the VictoriaLogs UI and Grafana. Labelled `qbeast.io/support-access: gated`: the agent applies
    /// these two objects only while the customer's grant is in force and removes them otherwise.
    func supportProxy() -> [JSONValue] {
        let name = Names.supportProxy
        let gated: [String: JSONValue] = [SupportAccessLabels.gate: .string(SupportAccessLabels.gated)]
        let upstreams = [
            "http://\(Names.grafana):\(Self.grafanaPort)/grafana/",
            "http://\(Names.victoriaMetrics):\(Self.victoriaMetricsPort)/vmui/",
            "http://\(Names.victoriaMetrics):\(Self.victoriaMetricsPort)/api/v1/",
            "http://\(Names.victoriaMetrics):\(Self.victoriaMetricsPort)/prometheus/",
            "http://\(Names.victoriaLogs):\(Self.victoriaLogsPort)/select/",
        ]
        var args: [JSONValue] = [
            "--provider=oidc", .string("--oidc-issuer-url=\(login.effectiveIssuer)"), .string("--client-id=\(login.effectiveClientID)"),
            "--code-challenge-method=S256", .string("--http-address=0.0.0.0:\(Self.proxyPort)"), "--reverse-proxy=true",
            "--cookie-secure=true", "--skip-provider-button=true", "--silence-ping-logging=true",
        ]
        args += login.effectiveAllowedDomains.map { .string("--email-domain=\($0)") }
        args += upstreams.map { .string("--upstream=\($0)") }
        return [
            service(name, app: name, port: Self.proxyPort, extraLabels: gated),
            [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(name, app: name, extraLabels: gated),
                "spec": [
                    "replicas": 1, "selector": ["matchLabels": Self.selector(name)],
                    "template": [
                        "metadata": ["labels": Self.selector(name)],
                        "spec": [
                            "automountServiceAccountToken": false, "securityContext": Self.podSecurity(user: 65532),
                            "containers": [
                                [
                                    "name": "oauth2-proxy", "image": .string(Images.oauth2Proxy), "args": .array(args),
                                    "env": [
                                        secretEnv("OAUTH2_PROXY_CLIENT_SECRET", key: "client-secret"),
                                        secretEnv("OAUTH2_PROXY_COOKIE_SECRET", key: "cookie-secret"),
                                    ],
                                    "ports": [["name": "http", "containerPort": .number(Double(Self.proxyPort))]],
                                    "readinessProbe": Self.httpProbe(path: "/ping", port: Self.proxyPort),
                                    "resources": Self.resources(cpu: "20m", memory: "32Mi", memoryLimit: "128Mi"),
                                    "securityContext": Self.containerSecurity(),
                                ]
                            ],
                        ],
                    ],
                ],
            ],
        ]
    }
}
