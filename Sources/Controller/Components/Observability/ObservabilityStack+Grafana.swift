import SplitPlaneProtocol

extension ObservabilityStack {
    static let grafanaConfig = "qbeast-grafana-config"
    static let grafanaDatasources = "qbeast-grafana-datasources"
    static let grafanaDashboards = "qbeast-grafana-dashboards"

    /// Grafana with its datasources and Qbeast's dashboards provisioned, no anonymous access, no
    /// password login (basic auth and the login form are off, so the built-in admin cannot be used),
    /// and generic OAuth with PKCE against the environment's issuer. The client secret comes from the
    /// Secret `login.clientSecretName`, by reference only. Served under `/grafana/` behind the support proxy.
    func grafana() -> [JSONValue] {
        let name = Names.grafana
        return [
            [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(Self.grafanaConfig, app: name),
                "data": ["grafana.ini": .string(grafanaINI())],
            ],
            [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(Self.grafanaDatasources, app: name),
                "data": ["datasources.yaml": .string(datasources()), "dashboards.yaml": .string(dashboardProvider())],
            ],
            [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(Self.grafanaDashboards, app: name),
                "data": .object(dashboards.mapValues { .string($0) }),
            ],
            service(name, app: name, port: Self.grafanaPort),
            [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(name, app: name),
                "spec": [
                    "replicas": 1, "selector": ["matchLabels": Self.selector(name)],
                    "template": [
                        "metadata": ["labels": Self.selector(name)],
                        "spec": [
                            "automountServiceAccountToken": false, "securityContext": Self.podSecurity(user: 472),
                            "containers": [
                                [
                                    "name": "grafana", "image": .string(Images.grafana),
                                    "env": [
                                        ["name": "GF_PATHS_CONFIG", "value": "/etc/grafana/custom/grafana.ini"],
                                        ["name": "GF_PATHS_PROVISIONING", "value": "/etc/grafana/provisioning"],
                                        ["name": "GF_PATHS_DATA", "value": "/var/lib/grafana"],
                                        secretEnv("GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET", key: "client-secret"),
                                    ],
                                    "ports": [["name": "http", "containerPort": .number(Double(Self.grafanaPort))]],
                                    "readinessProbe": Self.httpProbe(path: "/api/health", port: Self.grafanaPort),
                                    "resources": Self.resources(cpu: "100m", memory: "256Mi", memoryLimit: "512Mi"),
                                    "securityContext": Self.containerSecurity(),
                                    "volumeMounts": [
                                        ["name": "config", "mountPath": "/etc/grafana/custom", "readOnly": true],
                                        ["name": "datasources", "mountPath": "/etc/grafana/provisioning/datasources", "readOnly": true],
                                        [
                                            "name": "datasources", "mountPath": "/etc/grafana/provisioning/dashboards/dashboards.yaml",
                                            "subPath": "dashboards.yaml", "readOnly": true,
                                        ],
                                        ["name": "dashboards", "mountPath": "/var/lib/qbeast-dashboards", "readOnly": true],
                                        // Grafana's own database and sessions: rebuilt from provisioning on restart.
                                        ["name": "data", "mountPath": "/var/lib/grafana"], ["name": "tmp", "mountPath": "/tmp"],
                                    ],
                                ]
                            ],
                            "volumes": [
                                ["name": "config", "configMap": ["name": .string(Self.grafanaConfig)]],
                                [
                                    "name": "datasources",
                                    "configMap": [
                                        "name": .string(Self.grafanaDatasources),
                                        "items": [
                                            ["key": "datasources.yaml", "path": "datasources.yaml"], ["key": "dashboards.yaml", "path": "dashboards.yaml"],
                                        ],
                                    ],
                                ],
                                ["name": "dashboards", "configMap": ["name": .string(Self.grafanaDashboards)]],
                                ["name": "data", "emptyDir": [:]], ["name": "tmp", "emptyDir": [:]],
                            ],
                        ],
                    ],
                ],
            ],
        ]
    }

    /// An env var read from the login Secret: the value never appears in a generated object.
    func secretEnv(_ name: String, key: String) -> JSONValue {
        ["name": .string(name), "valueFrom": ["secretKeyRef": ["name": .string(login.effectiveClientSecretName), "key": .string(key)]]]
    }

    func grafanaINI() -> String {
        """
        [server]
        root_url = %(protocol)s://%(domain)s/grafana/
        serve_from_sub_path = true

        [analytics]
        reporting_enabled = false
        check_for_updates = false
        check_for_plugin_updates = false

        [security]
        disable_initial_admin_creation = true
        cookie_secure = true
        cookie_samesite = lax

        [users]
        allow_sign_up = false

        [auth]
        disable_login_form = true

        [auth.anonymous]
        enabled = false

        [auth.basic]
        enabled = false

        [auth.generic_oauth]
        enabled = true
        name = Qbeast login
        allow_sign_up = true
        auto_login = true
        client_id = \(login.effectiveClientID)
        scopes = openid profile email
        auth_url = \(login.authURL)
        token_url = \(login.tokenURL)
        api_url = \(login.userInfoURL)
        use_pkce = true
        allowed_domains = \(login.effectiveAllowedDomains.joined(separator: " "))

        [plugins]
        allow_loading_unsigned_plugins = victoriametrics-logs-datasource

        """
    }

    func datasources() -> String {
        """
        apiVersion: 1
        datasources:
          - name: VictoriaMetrics
            uid: victoriametrics
            type: prometheus
            access: proxy
            url: http://\(Names.victoriaMetrics):\(Self.victoriaMetricsPort)
            isDefault: true
            editable: false
          - name: VictoriaLogs
            uid: victorialogs
            type: victoriametrics-logs-datasource
            access: proxy
            url: http://\(Names.victoriaLogs):\(Self.victoriaLogsPort)
            editable: false

        """
    }

    func dashboardProvider() -> String {
        """
        apiVersion: 1
        providers:
          - name: qbeast
            folder: Qbeast
            type: file
            disableDeletion: true
            allowUiUpdates: false
            options:
              path: /var/lib/qbeast-dashboards

        """
    }
}
