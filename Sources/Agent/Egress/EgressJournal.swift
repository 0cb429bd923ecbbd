import Crypto
import Foundation
import Logging
import Synchronization

/// The egress journal: every message the agent sends upstream, recorded in its own state directory (in
/// the customer's namespace) as JSON Lines, rotated by size. Read with `qbeast-agent egress tail`.
public final class EgressJournal: Sendable {
    public let directory: URL
    /// A file is rotated (to `.1`, `.2`, …) when it would grow past this.
    public let maxFileBytes: Int
    /// Rotated files kept besides the current one.
    public let keepFiles: Int
    public let includeBodies: Bool
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let lock = Mutex(())

    public static let fileName = "journal.jsonl"

    public init(
        directory: URL, includeBodies: Bool = false, maxFileBytes: Int = 10 << 20, keepFiles: Int = 4,
        logger: Logger = Logger(label: "qbeast-agent"), now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.includeBodies = includeBodies
        self.maxFileBytes = maxFileBytes
        self.keepFiles = keepFiles
        self.logger = logger
        self.now = now
    }

    public var current: URL { directory.appendingPathComponent(Self.fileName) }

    public static func entry(_ message: EgressMessage, at time: Date, includeBody: Bool) -> EgressJournalEntry {
        EgressJournalEntry(
            time: time, kind: message.kind, bytes: message.body.count,
            sha256: SHA256.hash(data: message.body).map { String(format: "%02x", $0) }.joined(),
            labelNames: message.labelNames?.sorted(), annotationNames: message.annotationNames?.sorted(),
            body: includeBody ? String(decoding: message.body, as: UTF8.self) : nil)
    }

    /// Appends one entry. A journal that cannot be written is logged, never a reason not to send.
    public func record(_ message: EgressMessage) {
        let entry = Self.entry(message, at: now(), includeBody: includeBodies)
        lock.withLock { _ in
            do {
                var line = try Self.encoder.encode(entry)
                line.append(0x0A)
                try rotateIfNeeded(adding: line.count)
                if !FileManager.default.fileExists(atPath: current.path) {
                    FileManager.default.createFile(atPath: current.path, contents: nil)
                }
                let handle = try FileHandle(forWritingTo: current)
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: line)
            } catch {
                logger.error("cannot write the egress journal", metadata: ["error": "\(error)"])
            }
        }
    }

    private func rotateIfNeeded(adding bytes: Int) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: current.path)[.size] as? Int) ?? 0
        guard size > 0, size + bytes > maxFileBytes else { return }
        let manager = FileManager.default
        try? manager.removeItem(at: rotated(keepFiles))
        for index in stride(from: keepFiles - 1, through: 1, by: -1) where manager.fileExists(atPath: rotated(index).path) {
            try manager.moveItem(at: rotated(index), to: rotated(index + 1))
        }
        if keepFiles > 0 { try manager.moveItem(at: current, to: rotated(1)) } else { try manager.removeItem(at: current) }
    }

    private func rotated(_ index: Int) -> URL { directory.appendingPathComponent("\(Self.fileName).\(index)") }

    /// Every entry still kept, oldest first.
    public static func read(directory: URL) throws -> [EgressJournalEntry] {
        let manager = FileManager.default
        let rotatedFiles = ((try? manager.contentsOfDirectory(atPath: directory.path)) ?? [])
            .compactMap { name -> (Int, String)? in
                guard name.hasPrefix(fileName + "."), let index = Int(name.dropFirst(fileName.count + 1)) else { return nil }
                return (index, name)
            }
            .sorted { $0.0 > $1.0 }.map(\.1)
        var entries: [EgressJournalEntry] = []
        for name in rotatedFiles + [fileName] {
            guard let data = manager.contents(atPath: directory.appendingPathComponent(name).path) else { continue }
            for line in data.split(separator: 0x0A) where !line.isEmpty {
                entries.append(try decoder.decode(EgressJournalEntry.self, from: Data(line)))
            }
        }
        return entries
    }

    /// Bytes per kind over the entries kept (the figure to compare with `qbeast_agent_bytes_sent_total`).
    public static func totals(_ entries: [EgressJournalEntry]) -> [String: Int] {
        entries.reduce(into: [:]) { $0[$1.kind, default: 0] += $1.bytes }
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

/// `--egress-journal-bodies` and `--egress-journal-max-bytes`.
public struct EgressJournalSettings: Sendable {
    /// Keep each body too (off by default: the journal then holds sizes, hashes and names only).
    public var includeBodies = false
    public var maxFileBytes = 10 << 20

    public init(includeBodies: Bool = false, maxFileBytes: Int = 10 << 20) {
        self.includeBodies = includeBodies
        self.maxFileBytes = maxFileBytes
    }
}

extension EgressJournal {
    /// One entry as the journal writes it (for printing).
    public static func encode(_ entry: EgressJournalEntry) throws -> Data { try encoder.encode(entry) }
}
