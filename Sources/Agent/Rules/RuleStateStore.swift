import Foundation
import SplitPlaneProtocol

/// Alert state of each rule group, one file per group under `<state-dir>/rules/`, replaced
/// atomically after every evaluation round that changed it.
struct RuleStateStore: Sendable {
    /// Rule key → alert fingerprint → alert.
    typealias GroupState = [String: [String: ActiveAlert]]

    let directory: URL

    init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func load(workspace: String, group: String) -> GroupState {
        guard let data = try? Data(contentsOf: file(workspace: workspace, group: group)) else { return [:] }
        return (try? StrictJSON.decoder().decode(GroupState.self, from: data)) ?? [:]
    }

    func save(_ state: GroupState, workspace: String, group: String) throws {
        try AtomicFile.write(try StrictJSON.encode(state), to: file(workspace: workspace, group: group))
    }

    func remove(workspace: String, group: String) {
        try? AtomicFile.remove(file(workspace: workspace, group: group))
    }

    /// Group names are free text; the file name is the workspace plus a hash of the group name.
    private func file(workspace: String, group: String) -> URL {
        let digest = Hex.sha256(group, bytes: 8)
        return directory.appendingPathComponent("\(workspace)-\(digest).json")
    }
}
