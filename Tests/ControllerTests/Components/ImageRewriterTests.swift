import Controller
import SplitPlaneProtocol
import Testing

/// `ghcr.io/<path>` images become `<registry>/<path>` in every pod spec a manifest carries.
@Suite struct ImageRewriterTests {
    static let aws = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr"
    static let gcp = "europe-west1-docker.pkg.dev/acme-data/ghcr"
    static let azure = "acmeqbeast.azurecr.io/ghcr"

    @Test(arguments: [aws, gcp, azure])
    func rewritesGHCRImagesKeepingTagsAndDigests(registry: String) {
        let rewriter = ImageRewriter(registry: registry)
        #expect(rewriter.rewrite(image: "ghcr.io/qbeast/backend:1.4.2") == "\(registry)/qbeast/backend:1.4.2")
        #expect(rewriter.rewrite(image: "ghcr.io/qbeast/tools/spark-shuffle") == "\(registry)/qbeast/tools/spark-shuffle")
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        #expect(rewriter.rewrite(image: "ghcr.io/qbeast/backend@\(digest)") == "\(registry)/qbeast/backend@\(digest)")
        #expect(rewriter.rewrite(image: "ghcr.io/qbeast/backend:1.4.2@\(digest)") == "\(registry)/qbeast/backend:1.4.2@\(digest)")
    }

    @Test func leavesOtherImagesAndOddReferencesAlone() {
        let rewriter = ImageRewriter(registry: Self.aws)
        for image in [
            "docker.io/library/nginx:1.27", "nginx", "quay.io/prometheus/node-exporter:v1.8.0", "victoriametrics/victoria-metrics",
            "ghcr.io", "ghcr.io/", "ghcr.io//x", "ghcr.io/:tag", "ghcr.io.evil.example/qbeast/backend", "myghcr.io/x", "GHCR.IO/x",
        ] {
            #expect(rewriter.rewrite(image: image) == image)
        }
        #expect(ImageRewriter(registry: nil).rewrite(image: "ghcr.io/qbeast/backend:1") == "ghcr.io/qbeast/backend:1", "no registry: as given")
    }

    static func podSpec(_ image: String, init initImage: String) -> JSONValue {
        [
            "containers": [["name": "main", "image": .string(image)], ["name": "sidecar", "image": "docker.io/library/busybox:1.36"]],
            "initContainers": [["name": "migrate", "image": .string(initImage)]],
            "ephemeralContainers": [["name": "debug", "image": "ghcr.io/qbeast/debug:1"]],
        ]
    }

    static func images(_ podSpec: JSONValue?) -> [String] {
        guard case .object(let spec)? = podSpec else { return [] }
        return ["containers", "initContainers", "ephemeralContainers"].flatMap { field -> [String] in
            guard case .array(let containers)? = spec[field] else { return [] }
            return containers.compactMap { container in
                if case .object(let fields) = container, case .string(let image)? = fields["image"] { image } else { nil }
            }
        }
    }

    static func at(_ value: JSONValue, _ path: [String]) -> JSONValue? {
        path.reduce(Optional(value)) { current, key in
            if case .object(let object)? = current { object[key] } else { nil }
        }
    }

    @Test(arguments: [aws, gcp, azure])
    func rewritesEveryWorkloadKind(registry: String) {
        let rewriter = ImageRewriter(registry: registry)
        let spec = Self.podSpec("ghcr.io/qbeast/backend:1.4.2", init: "ghcr.io/qbeast/migrate:1.4.2")
        let expected = [
            "\(registry)/qbeast/backend:1.4.2", "docker.io/library/busybox:1.36", "\(registry)/qbeast/migrate:1.4.2",
            "\(registry)/qbeast/debug:1",
        ]
        let template: JSONValue = ["metadata": ["labels": ["app": "x"]], "spec": spec]
        let cases: [(String, JSONValue, [String])] = [
            ("Pod", ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p"], "spec": spec], ["spec"]),
            (
                "Deployment", ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d"], "spec": ["template": template]],
                ["spec", "template", "spec"]
            ),
            (
                "StatefulSet", ["apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": ["name": "s"], "spec": ["template": template]],
                ["spec", "template", "spec"]
            ),
            (
                "DaemonSet", ["apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": ["name": "ds"], "spec": ["template": template]],
                ["spec", "template", "spec"]
            ),
            (
                "ReplicaSet", ["apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "rs"], "spec": ["template": template]],
                ["spec", "template", "spec"]
            ),
            (
                "Job", ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "j"], "spec": ["backoffLimit": 2, "template": template]],
                ["spec", "template", "spec"]
            ),
            (
                "CronJob",
                [
                    "apiVersion": "batch/v1", "kind": "CronJob", "metadata": ["name": "c"],
                    "spec": ["schedule": "*/5 * * * *", "jobTemplate": ["spec": ["template": template]]],
                ],
                ["spec", "jobTemplate", "spec", "template", "spec"]
            ),
            (
                "Rollout (pod template found generically)",
                [
                    "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": ["name": "r"],
                    "spec": ["template": template],
                ], ["spec", "template", "spec"]
            ),
        ]
        for (name, manifest, path) in cases {
            let rewritten = rewriter.rewrite(manifest: manifest)
            #expect(Self.images(Self.at(rewritten, path)) == expected, "\(name)")
            // Nothing but the images changes.
            #expect(Self.at(rewritten, ["metadata"]) == Self.at(manifest, ["metadata"]), "\(name)")
        }
        let configMap: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"], "data": ["image": "ghcr.io/qbeast/x:1"]]
        #expect(rewriter.rewrite(manifest: configMap) == configMap, "only pod specs are touched")
    }
}
