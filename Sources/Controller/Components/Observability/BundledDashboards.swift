import Foundation

/// Qbeast's Grafana dashboards, provisioned into every environment's Grafana: a copy of
/// `dashboards/*.json` (the top-level originals, checked by `scripts/check-dashboards.py`) in the
/// controller's resources, since a package resource must live inside its target; `ObservabilityStackTests`
/// fails when the copy and the originals differ.
public enum BundledDashboards {
    /// File name → JSON text; empty only if the resources are missing from the build.
    public static let all: [String: String] = {
        guard let directory = Bundle.module.url(forResource: "dashboards", withExtension: nil),
            let files = try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        else { return [:] }
        var dashboards: [String: String] = [:]
        for file in files where file.pathExtension == "json" {
            if let text = try? String(contentsOf: file, encoding: .utf8) { dashboards[file.lastPathComponent] = text }
        }
        return dashboards
    }()
}
