import Foundation
import SplitPlaneTesting

/// **Not helm.** No helm binary is installed on the machines these tests run on, and none can be
/// downloaded, so the chart path is tested against small shell scripts that stand in for helm's CLI
/// contract: `helm template <release> <chart> [--repo <url>] --version <v> --namespace <ns> --values <file>`
/// printing a multi-document YAML stream on stdout with exit status 0, or a message on stderr with a
/// non-zero status. The scripts check the argv they are given, so a wrong invocation fails the test.
enum FakeHelm {
    /// What the stand-in prints: documents with a comment-only one, an empty one and a `null` between
    /// them, as `helm template` output has (templates that render to nothing).
    static let rendering = """
        ---
        # Source: qbeast-backend/templates/serviceaccount.yaml
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: backend
        ---
        # Source: qbeast-backend/templates/disabled.yaml
        ---
        ---
        null
        ---
        # Source: qbeast-backend/templates/deployment.yaml
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: backend
          labels:
            app.kubernetes.io/version: "1.4.2"
        spec:
          replicas: 2
          template:
            spec:
              initContainers:
                - name: migrate
                  image: ghcr.io/qbeast/backend-migrate:1.4.2
              containers:
                - name: backend
                  image: ghcr.io/qbeast/backend:1.4.2
                  ports:
                    - containerPort: 8080
                  env:
                    - {name: DEBUG, value: "false"}
                - name: proxy
                  image: docker.io/library/nginx:1.27
        """

    /// A stand-in that prints `rendering` when called exactly as `expectedArguments` followed by
    /// `--values <file>` whose content is `expectedValues`; anything else exits 2 with the reason.
    static func renderer(in directory: TemporaryDirectory, expectedArguments: String, expectedValues: String) throws -> String {
        try script(
            in: directory, name: "fake-helm",
            """
            #!/bin/sh
            # Stand-in for helm's CLI contract (see FakeHelm in the tests); not helm.
            expected='\(expectedArguments) --values '
            case "$*" in
              "$expected"*) ;;
              *) echo "fake-helm: unexpected arguments: $*" >&2; exit 2 ;;
            esac
            for values; do :; done
            if [ "$(cat "$values")" != '\(expectedValues)' ]; then
              echo "fake-helm: unexpected values: $(cat "$values")" >&2; exit 2
            fi
            cat <<'YAML'
            \(rendering)
            YAML
            """)
    }

    /// A stand-in that fails the way helm does when a chart version does not exist.
    static func failing(in directory: TemporaryDirectory) throws -> String {
        try script(
            in: directory, name: "fake-helm-failing",
            """
            #!/bin/sh
            # Stand-in for helm's CLI contract (see FakeHelm in the tests); not helm.
            echo 'Error: chart "qbeast-backend" version "9.9.9" not found in oci://ghcr.io/qbeast/charts repository' >&2
            exit 1
            """)
    }

    static func script(in directory: TemporaryDirectory, name: String, _ text: String) throws -> String {
        let path = directory.path(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }
}
