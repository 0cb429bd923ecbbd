import Foundation
import SplitPlaneProtocol

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

    func component(_ ref: ComponentRef) async throws -> ResolvedComponent {
        // Only a well-formed content hash ever becomes a file name.
        guard ResolvedComponent.isContentHash(ref.hash) else {
            throw ValidationError(field: "hash", reason: "component \"\(ref.name)\" has no valid content hash: \(ref.hash.prefix(80))")
        }
        let file = self.file(ref.hash)
        if let data = FileManager.default.contents(atPath: file.path),
            let cached = try? JSONDecoder().decode(ResolvedComponent.self, from: data), (try? cached.verify(as: ref.hash)) != nil
        {
            return cached
        }
        let fetched = try await source.component(hash: ref.hash)
        try fetched.verify(as: ref.hash)
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
