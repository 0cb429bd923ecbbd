import SplitPlaneProtocol

/// The environment's own VictoriaMetrics, installed with the observability stack: the metrics store
/// the rules query when the agent is given none (`--metrics-store-url` always wins).
enum StackMetricsStore {
    /// Matches the Service the controller generates (`qbeast-victoria-metrics`, port 8428).
    static func url(namespace: String) -> String { "http://qbeast-victoria-metrics.\(namespace).svc:8428" }

    static func present(in desired: DesiredState) -> Bool {
        desired.workspaces.contains { $0.name == EnvironmentRequest.observabilityWorkspace }
    }

    /// What the rule engine runs: everything while the stack is desired, nothing otherwise.
    static func ruleView(of desired: DesiredState) -> DesiredState {
        guard !present(in: desired) else { return desired }
        var view = desired
        view.workspaces = view.workspaces.map { workspace in
            var workspace = workspace
            workspace.ruleGroups = []
            return workspace
        }
        return view
    }
}
