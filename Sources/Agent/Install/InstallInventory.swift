import Foundation
import SplitPlaneProtocol

/// What the agent has put in the cluster, per workspace and component, kept on disk so that a
/// restarted agent still knows what to prune and what is already applied (and re-applies nothing
/// unchanged on reconnect).
struct WorkspaceInventory: Codable, Equatable {
    var components: [String: ComponentRecord] = [:]
}

struct ComponentRecord: Codable, Equatable {
    /// Hash of the resolved component last applied completely (nil until one apply fully succeeded).
    var appliedHash: String?
    var appliedAt: Date?
    /// Every object that may exist for this component: the applied ones, plus those of an apply in
    /// progress. Recorded before applying, so a crash mid-apply cannot leave an object unpruneable.
    var objects: Set<ObjectKey> = []
}

/// `<state>/install/<workspace>.json`, one file per workspace, replaced atomically.
struct InstallInventoryStore {
    let directory: URL

    init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func workspaces() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }.sorted()
    }

    func load(_ workspace: String) -> WorkspaceInventory {
        guard let data = FileManager.default.contents(atPath: file(workspace).path) else { return WorkspaceInventory() }
        return (try? JSONDecoder().decode(WorkspaceInventory.self, from: data)) ?? WorkspaceInventory()
    }

    func save(_ inventory: WorkspaceInventory, for workspace: String) throws {
        if inventory.components.isEmpty {
            try? FileManager.default.removeItem(at: file(workspace))
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try encoder.encode(inventory), to: file(workspace))
    }

    private func file(_ workspace: String) -> URL { directory.appendingPathComponent("\(workspace).json") }
}
