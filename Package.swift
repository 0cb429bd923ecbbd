// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "qbeast-split-plane",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "qbeast-controller", targets: ["qbeast-controller"]),
        .executable(name: "qbeast-agent", targets: ["qbeast-agent"]),
        .executable(name: "qbctl", targets: ["qbctl"]),
        // The parsers the fuzz targets in fuzz/ drive (a package of their own, built with -sanitize=fuzzer).
        .library(name: "AlertTemplates", targets: ["AlertTemplates"]),
        .library(name: "AlertRouting", targets: ["AlertRouting"]),
        .library(name: "SplitPlaneProtocol", targets: ["SplitPlaneProtocol"]),
        .library(name: "SplitPlaneTLS", targets: ["SplitPlaneTLS"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // The version stamped at build time (-Xcc -DQBEAST_VERSION=...), read by every binary.
        .target(name: "BuildInfo"),
        // Wire contract shared by both planes: specs, status, conditions, alerts, validation.
        .target(
            name: "SplitPlaneProtocol",
            dependencies: ["BuildInfo", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // Dev/CA certificates, SPIFFE identities, TLS configurations for both sides.
        .target(
            name: "SplitPlaneTLS",
            dependencies: [
                "SplitPlaneProtocol",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Plumbing both processes share: JSON logging, metrics listener, health endpoints.
        .target(
            name: "ServiceSupport",
            dependencies: [
                "SplitPlaneProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // What the controller keeps and decides, independent of any database: the store protocols and
        // the alerting state they carry (groups, notifications, the dedup policy).
        .target(
            name: "ControllerModel",
            dependencies: ["SplitPlaneProtocol"],
            swiftSettings: strict
        ),
        // The store, written once over a small SQL abstraction; a dialect covers what differs.
        .target(
            name: "SQLStorage",
            dependencies: ["ControllerModel", "SplitPlaneProtocol", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The two databases the store runs on: SQLite (embedded, GRDB) and PostgreSQL (replicas, PostgresNIO).
        .target(
            name: "SQLiteDriver",
            dependencies: ["SQLStorage", "SplitPlaneProtocol", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .target(
            name: "PostgresDriver",
            dependencies: [
                "ControllerModel",
                "SQLStorage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Controller",
            dependencies: [
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                "SplitPlaneProtocol", "SplitPlaneTLS", "ServiceSupport", "AlertTemplates", "AlertRouting", "ControllerModel",
                "SQLStorage", "SQLiteDriver", "PostgresDriver", "KubernetesAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.yaml"), .copy("Resources/dashboards")],
            swiftSettings: strict
        ),
        // Regular-expression matching with a step budget (ICU backtracks; patterns come from specs and silences).
        .target(name: "RegexBudget", swiftSettings: strict),
        // The alert routing configuration (Alertmanager's route tree, receivers, inhibit rules) and its parser.
        .target(
            name: "AlertRouting",
            dependencies: ["SplitPlaneProtocol", "RegexBudget", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // Go text/template subset with Prometheus' template functions, for alert labels and annotations.
        .target(
            name: "AlertTemplates",
            dependencies: ["RegexBudget"],
            swiftSettings: strict
        ),
        // A Kubernetes REST client (discovery, server-side apply, lists, status), used by the agent to install
        // components and by the controller to drive Crossplane.
        .target(
            name: "KubernetesAPI",
            dependencies: [
                "SplitPlaneProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Agent",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                "KubernetesAPI",
                "SplitPlaneProtocol", "SplitPlaneTLS", "ServiceSupport", "AlertTemplates",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "qbeast-controller",
            dependencies: [
                "Controller", "ServiceSupport", "SplitPlaneProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "qbeast-agent",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "Agent", "ServiceSupport", "SplitPlaneProtocol", "SplitPlaneTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "qbctl",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                "SplitPlaneProtocol", "SplitPlaneTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // The smallest test support: throwaway PKI, loopback servers, temporary directories, waiting.
        .target(
            name: "TestSupport",
            dependencies: [
                "SplitPlaneTLS", "ServiceSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // A stand-in for the Kubernetes API server (the real one cannot run here): discovery, Status errors,
        // server-side apply with field managers, selectors, watches. Checked against the real kubectl.
        .target(
            name: "KubernetesTestServer",
            dependencies: [
                "TestSupport", "SplitPlaneProtocol", "SplitPlaneTLS",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // Test support shared by the test targets: throwaway PKI, in-process controller, TLS clients.
        .target(
            name: "SplitPlaneTesting",
            dependencies: [
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                "Controller", "ControllerModel", "Agent", "KubernetesAPI", "SplitPlaneTLS", "SplitPlaneProtocol", "ServiceSupport",
                "SQLStorage", "SQLiteDriver", "PostgresDriver", "TestSupport", "KubernetesTestServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // `make bench`: the agent's rule evaluation beside vmalert's (not a test).
        .executableTarget(
            name: "qbeast-bench",
            dependencies: [
                "Agent", "KubernetesAPI", "SplitPlaneTesting", "SplitPlaneProtocol", "SplitPlaneTLS", "ServiceSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "bench/qbeast-bench"
        ),
        // `make bench` fleet section: N simulated agents, each with its own certificate, against a real controller.
        .executableTarget(
            name: "qbeast-fleet-sim",
            dependencies: [
                "Agent", "SplitPlaneTLS", "SplitPlaneProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "bench/qbeast-fleet-sim"
        ),
        .testTarget(name: "SplitPlaneProtocolTests", dependencies: ["SplitPlaneProtocol"]),
        .testTarget(name: "AlertTemplatesTests", dependencies: ["AlertTemplates"]),
        .testTarget(
            name: "SplitPlaneTLSTests",
            dependencies: [
                "SplitPlaneTLS", "SplitPlaneTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .testTarget(
            name: "ControllerTests",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "SplitPlaneProtocol",
                "Controller", "ControllerModel", "Agent", "AlertRouting", "SQLStorage", "SQLiteDriver", "PostgresDriver", "SplitPlaneTLS", "SplitPlaneTesting",
                "KubernetesAPI",
                "ServiceSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "Agent", "KubernetesAPI", "Controller", "AlertTemplates", "SplitPlaneProtocol", "SplitPlaneTLS",
                "SplitPlaneTesting", "ServiceSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "KubernetesTestServerTests",
            dependencies: [
                "KubernetesTestServer", "TestSupport", "SplitPlaneProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
