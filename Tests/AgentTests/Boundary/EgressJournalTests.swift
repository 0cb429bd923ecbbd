import Foundation
import SplitPlaneProtocol
import SplitPlaneTesting
import Testing

@testable import Agent

/// The egress journal: one line per message sent, hashed, rotated by size, totals per kind.
struct EgressJournalTests {
    @Test func recordsHashesNamesAndOptionallyBodies() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let body = Data(#"{"alerts":[]}"#.utf8)
        let plain = try EgressJournal(directory: directory.url.appendingPathComponent("plain"))
        plain.record(EgressMessage(kind: "alerts", body: body, labelNames: ["severity", "alertname"], annotationNames: ["summary"]))
        plain.record(EgressMessage(kind: "status", body: Data("{}".utf8)))
        let entries = try EgressJournal.read(directory: plain.directory)
        #expect(entries.map(\.kind) == ["alerts", "status"])
        #expect(entries[0].bytes == body.count)
        #expect(entries[0].sha256 == Hex.sha256(#"{"alerts":[]}"#))
        #expect(entries[0].labelNames == ["alertname", "severity"])
        #expect(entries[0].annotationNames == ["summary"])
        #expect(entries.allSatisfy { $0.body == nil }, "bodies only when asked for")
        #expect(EgressJournal.totals(entries) == ["alerts": body.count, "status": 2])

        let withBodies = try EgressJournal(directory: directory.url.appendingPathComponent("bodies"), includeBodies: true)
        withBodies.record(EgressMessage(kind: "alerts", body: body))
        #expect(try EgressJournal.read(directory: withBodies.directory).first?.body == #"{"alerts":[]}"#)
    }

    @Test func rotatesBySizeAndKeepsABoundedHistory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let journal = try EgressJournal(directory: directory.url, maxFileBytes: 400, keepFiles: 2)
        for index in 0..<30 { journal.record(EgressMessage(kind: "status", body: Data("message \(index)".utf8))) }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        #expect(files == ["journal.jsonl", "journal.jsonl.1", "journal.jsonl.2"])
        for file in files {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: directory.path(file))[.size] as? Int)
            #expect(size <= 400)
        }
        let kept = try EgressJournal.read(directory: directory.url)
        #expect(kept.count < 30 && kept.count > 3)
        let last = try #require(kept.last)
        #expect(last.sha256 == Hex.sha256("message 29"), "newest last")
    }
}
