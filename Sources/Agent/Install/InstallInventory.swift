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

/// Where resolved components come from: the controller (`GET /agent/v1/components/{hash}`).
public protocol ComponentSource: Sendable {
    func component(hash: String) async throws -> ResolvedComponent
}

/// Resolved components by content hash on disk, so a restart or reconnect fetches only what changed.
struct ComponentCache {
    let directory: URL
    let source: any ComponentSource

    init(directory: URL, source: any ComponentSource) throws {
        self.directory = directory
        self.source = source
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// `sha256:` and 64 lowercase hex digits; anything else never becomes a file name.
    static func isContentHash(_ hash: String) -> Bool {
        hash.hasPrefix("sha256:") && hash.utf8.count == 71 && hash.utf8.dropFirst(7).allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    func component(_ ref: ComponentRef) async throws -> ResolvedComponent {
        guard Self.isContentHash(ref.hash) else {
            throw ValidationError(field: "hash", reason: "component \"\(ref.name)\" has no valid content hash: \(ref.hash.prefix(80))")
        }
        let file = self.file(ref.hash)
        if let data = FileManager.default.contents(atPath: file.path),
           let cached = try? JSONDecoder().decode(ResolvedComponent.self, from: data), cached.hash == ref.hash, (try? cached.verify()) != nil {
            return cached
        }
        let fetched = try await source.component(hash: ref.hash)
        try fetched.verify()
        guard fetched.hash == ref.hash else {
            throw ValidationError(field: "hash", reason: "asked the controller for \(ref.hash), received \(fetched.hash)")
        }
        try AtomicFile.write(try JSONEncoder().encode(fetched), to: file)
        return fetched
    }

    /// Drops cached components no desired workspace names any more.
    func keepOnly(_ hashes: Set<String>) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in files where name.hasSuffix(".json") && !hashes.contains(Self.hash(fromFileName: name)) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    private func file(_ hash: String) -> URL { directory.appendingPathComponent(hash.replacingOccurrences(of: ":", with: "-") + ".json") }
    private static func hash(fromFileName name: String) -> String {
        String(name.dropLast(5)).replacingOccurrences(of: "sha256-", with: "sha256:")
    }
}
