// swift-tools-version:6.1
// libFuzzer targets for the parsers hostile input reaches first. Built apart from the main package so
// that only these parsers and their dependencies get the fuzzer's instrumentation:
//   make fuzz            (FUZZ_SECONDS per target, default 30)
import PackageDescription

let project = "qbeast-split-plane"

let package = Package(
    name: "qbeast-fuzz",
    dependencies: [.package(name: project, path: "..")],
    targets: [
        .executableTarget(name: "fuzz-templates", dependencies: [.product(name: "AlertTemplates", package: project)]),
        .executableTarget(name: "fuzz-json", dependencies: [.product(name: "SplitPlaneProtocol", package: project)]),
        .executableTarget(name: "fuzz-spiffe", dependencies: [.product(name: "SplitPlaneTLS", package: project)]),
        .executableTarget(name: "fuzz-csr", dependencies: [.product(name: "SplitPlaneTLS", package: project)]),
        .executableTarget(name: "fuzz-routing", dependencies: [.product(name: "AlertRouting", package: project)]),
    ],
    swiftLanguageModes: [.v6]
)
