import SplitPlaneProtocol

extension DataBoundary {
    /// Free text in status — Kubernetes API errors, condition and component messages — capped in length
    /// and passed through the redaction patterns before it leaves.
    public func scrub(_ report: StatusReport) -> StatusReport {
        if unrestricted { return report }
        var report = report
        for index in report.workspaces.indices {
            report.workspaces[index] = scrub(report.workspaces[index])
        }
        return report
    }

    func scrub(_ status: WorkspaceStatus) -> WorkspaceStatus {
        var status = status
        status.conditions = status.conditions.map(scrub)
        for index in status.components.indices {
            status.components[index].message = status.components[index].message.map(scrub)
            status.components[index].conditions = status.components[index].conditions?.map(scrub)
            if let objects = status.components[index].objects {
                status.components[index].objects = objects.map { object in
                    var object = object
                    object.message = object.message.map(scrub)
                    return object
                }
            }
        }
        return status
    }

    func scrub(_ condition: Condition) -> Condition {
        var condition = condition
        condition.message = scrub(condition.message)
        return condition
    }

    /// Redacted, then cut to `maxStatusMessageLength` characters (an ellipsis marks the cut).
    public func scrub(_ message: String) -> String {
        let text = redact(message).text
        guard text.count > maxStatusMessageLength else { return text }
        return String(text.prefix(max(0, maxStatusMessageLength - 1))) + "…"
    }
}
