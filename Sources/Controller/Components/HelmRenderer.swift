import Foundation
import SplitPlaneProtocol

/// Renders a chart component with `helm template`, run as a subprocess (no shell):
/// `helm template <component> <chart> [--repo <https repository>] --version <v> --namespace <ns> --values <file>`;
/// an `oci://` repository is named in the chart reference itself (`<repository>/<chart>`).
public struct HelmRenderer: Sendable {
    /// The helm binary; nil when none is configured or on PATH (chart components are then refused).
    public var binary: String?
    public var timeout: Duration
    /// Largest rendering accepted, bytes.
    public var outputLimit: Int

    public init(binary: String?, timeout: Duration = .seconds(120), outputLimit: Int = 16 << 20) {
        self.binary = binary
        self.timeout = timeout
        self.outputLimit = outputLimit
    }

    /// `configured` if given, else the first executable `helm` on `PATH`.
    public static func locate(configured: String?, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if let configured { return configured }
        for directory in (path ?? "").split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/helm"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The arguments after the binary, for `release` (the component name) in `namespace`.
    static func arguments(release: String, chart: ChartReference, namespace: String, valuesFile: String) -> [String] {
        var arguments = ["template", release]
        if chart.repository.hasPrefix("oci://") {
            let repository = chart.repository.hasSuffix("/") ? String(chart.repository.dropLast()) : chart.repository
            arguments.append("\(repository)/\(chart.chart)")
        } else {
            arguments += [chart.chart, "--repo", chart.repository]
        }
        return arguments + ["--version", chart.version, "--namespace", namespace, "--values", valuesFile]
    }

    /// The chart's objects, rendered with its values for `namespace`. Errors are one line for the operator.
    public func render(release: String, chart: ChartReference, namespace: String) async throws(ComponentResolutionError) -> [JSONValue] {
        guard let binary else {
            throw ComponentResolutionError(
                component: release,
                reason: "rendering Helm charts needs the helm binary; none is configured (--helm-binary) or on PATH — use plain manifests or install helm")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qbeast-helm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let valuesFile = directory.appendingPathComponent("values.json")
        let result: Subprocess.Result
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // JSON is YAML: helm reads the values file as given.
            try StrictJSON.encode(chart.values ?? .object([:])).write(to: valuesFile)
            result = try await Subprocess(
                executable: binary,
                arguments: Self.arguments(
                    release: release, chart: chart, namespace: namespace,
                    valuesFile: valuesFile.path),
                timeout: timeout, stdoutLimit: outputLimit
            ).run()
        } catch {
            throw ComponentResolutionError(component: release, reason: "cannot run \(binary): \(error)")
        }
        let stderr = Self.oneLine(String(decoding: result.stderr, as: UTF8.self))
        if result.timedOut {
            throw ComponentResolutionError(component: release, reason: "helm template did not finish within \(timeout)" + (stderr.isEmpty ? "" : ": \(stderr)"))
        }
        if result.stdoutOverflow {
            throw ComponentResolutionError(component: release, reason: "helm template printed more than \(outputLimit) bytes")
        }
        guard result.status == 0 else {
            throw ComponentResolutionError(
                component: release, reason: "helm template failed (exit status \(result.status)): " + (stderr.isEmpty ? "no message" : stderr))
        }
        do {
            return try ManifestDocuments.objects(fromYAML: String(decoding: result.stdout, as: UTF8.self))
        } catch {
            throw ComponentResolutionError(component: release, reason: "helm template printed something that is not Kubernetes objects: \(error.reason)")
        }
    }

    /// helm's message on one line, trimmed to a size a problem detail can carry.
    static func oneLine(_ text: String, limit: Int = 2000) -> String {
        let joined = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: " | ")
        return joined.count > limit ? String(joined.prefix(limit)) + "…" : joined
    }
}
