import SplitPlaneProtocol

extension ObservabilityStack {
    /// VictoriaMetrics single node: a StatefulSet with its claim, scraping only this namespace through
    /// Kubernetes service discovery with a namespaced Role (no ClusterRole, no DaemonSet).
    func victoriaMetrics() -> [JSONValue] {
        let name = Names.victoriaMetrics
        let discovery = Names.discovery
        return [
            [
                "apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(name, app: name),
            ],
            [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": metadata(discovery, app: name),
                "rules": [
                    ["apiGroups": [""], "resources": ["pods", "services", "endpoints"], "verbs": ["get", "list", "watch"]],
                    ["apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]],
                ],
            ],
            [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": metadata(discovery, app: name),
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": .string(discovery)],
                "subjects": [["kind": "ServiceAccount", "name": .string(name), "namespace": .string(namespace)]],
            ],
            [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(Names.scrapeConfig, app: name),
                "data": ["scrape.yml": .string(ScrapeConfig(namespace: namespace).yaml())],
            ],
            service(name, app: name, port: Self.victoriaMetricsPort),
            [
                "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata(name, app: name),
                "spec": [
                    "serviceName": .string(name), "replicas": 1, "selector": ["matchLabels": Self.selector(name)],
                    "template": [
                        // Scraped by its own static job, not by annotation.
                        "metadata": ["labels": Self.selector(name)],
                        "spec": [
                            "serviceAccountName": .string(name), "automountServiceAccountToken": true,
                            "securityContext": Self.podSecurity(user: 65534),
                            "containers": [
                                [
                                    "name": "victoria-metrics", "image": .string(Images.victoriaMetrics),
                                    "args": [
                                        "-storageDataPath=/storage", .string("-retentionPeriod=\(spec.effectiveMetricsRetention)"),
                                        .string("-httpListenAddr=:\(Self.victoriaMetricsPort)"),
                                        "-promscrape.config=/config/scrape.yml", "-promscrape.config.strictParse",
                                        "-loggerFormat=json",
                                    ],
                                    "ports": [["name": "http", "containerPort": .number(Double(Self.victoriaMetricsPort))]],
                                    "readinessProbe": Self.httpProbe(path: "/health", port: Self.victoriaMetricsPort),
                                    "resources": Self.resources(cpu: "200m", memory: "512Mi", memoryLimit: "2Gi"),
                                    "securityContext": Self.containerSecurity(),
                                    "volumeMounts": [
                                        ["name": "storage", "mountPath": "/storage"], ["name": "config", "mountPath": "/config", "readOnly": true],
                                    ],
                                ]
                            ],
                            "volumes": [["name": "config", "configMap": ["name": .string(Names.scrapeConfig)]]],
                        ],
                    ],
                    "volumeClaimTemplates": [volumeClaimTemplate(size: spec.effectiveMetricsStorage)],
                ],
            ],
        ]
    }

    /// VictoriaLogs single node. Workloads of the namespace push their logs to it (JSON lines, Loki
    /// push or OpenTelemetry at `http://qbeast-victoria-logs:9428/insert/…`); nothing reads node files,
    /// which would need a DaemonSet and host paths outside the namespace.
    func victoriaLogs() -> [JSONValue] {
        let name = Names.victoriaLogs
        return [
            service(name, app: name, port: Self.victoriaLogsPort),
            [
                "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": metadata(name, app: name),
                "spec": [
                    "serviceName": .string(name), "replicas": 1, "selector": ["matchLabels": Self.selector(name)],
                    "template": [
                        "metadata": [
                            "labels": Self.selector(name),
                            "annotations": ["prometheus.io/scrape": "true", "prometheus.io/port": .string(String(Self.victoriaLogsPort))],
                        ],
                        "spec": [
                            "automountServiceAccountToken": false, "securityContext": Self.podSecurity(user: 65534),
                            "containers": [
                                [
                                    "name": "victoria-logs", "image": .string(Images.victoriaLogs),
                                    "args": [
                                        "-storageDataPath=/storage", .string("-retentionPeriod=\(spec.effectiveLogsRetention)"),
                                        .string("-httpListenAddr=:\(Self.victoriaLogsPort)"), "-loggerFormat=json",
                                    ],
                                    "ports": [["name": "http", "containerPort": .number(Double(Self.victoriaLogsPort))]],
                                    "readinessProbe": Self.httpProbe(path: "/health", port: Self.victoriaLogsPort),
                                    "resources": Self.resources(cpu: "100m", memory: "256Mi", memoryLimit: "1Gi"),
                                    "securityContext": Self.containerSecurity(),
                                    "volumeMounts": [["name": "storage", "mountPath": "/storage"]],
                                ]
                            ],
                        ],
                    ],
                    "volumeClaimTemplates": [volumeClaimTemplate(size: spec.effectiveLogsStorage)],
                ],
            ],
        ]
    }
}
