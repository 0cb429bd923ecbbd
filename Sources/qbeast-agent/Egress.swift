import Agent
import ArgumentParser
import Foundation

/// `qbeast-agent egress tail`: what the agent sent upstream, from its egress journal, for the customer's
/// reviewer (`kubectl exec deploy/qbeast-agent -- qbeast-agent egress tail`). Read with `kubectl exec` rather
/// than served on a port: the agent keeps no inbound API, and who may read it is who may exec into the pod.
struct Egress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the egress journal: every message the agent sent upstream.",
        subcommands: [Tail.self]
    )

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the last journal entries (JSON Lines: time, kind, bytes, sha256, label and annotation names).",
            discussion: "With --totals, bytes per kind over every entry kept instead (compare with qbeast_agent_bytes_sent_total)."
        )

        @Option(help: "The agent's state directory. Default ./.data/agent (in the chart /var/lib/qbeast-agent).") var stateDir: String?
        @Option(name: .shortAndLong, help: "How many entries. Default 20.") var lines: Int = 20
        @Flag(help: "Bytes and messages per kind instead of entries.") var totals = false

        func validate() throws {
            guard lines > 0 else { throw ValidationError("--lines must be positive") }
        }

        func run() async throws {
            let base = stateDir ?? ProcessInfo.processInfo.environment["QBEAST_STATE_DIR"] ?? ".data/agent"
            let directory = URL(fileURLWithPath: base).appendingPathComponent("egress")
            guard FileManager.default.fileExists(atPath: directory.path) else {
                throw ValidationError("no egress journal at \(directory.path) (is --state-dir the agent's?)")
            }
            let entries: [EgressJournalEntry]
            do { entries = try EgressJournal.read(directory: directory) } catch {
                throw ValidationError("the egress journal at \(directory.path) cannot be read: \(error)")
            }
            if totals {
                let counts = entries.reduce(into: [String: Int]()) { $0[$1.kind, default: 0] += 1 }
                for (kind, bytes) in EgressJournal.totals(entries).sorted(by: { $0.key < $1.key }) {
                    print("\(kind)\tmessages=\(counts[kind] ?? 0)\tbytes=\(bytes)")
                }
                return
            }
            for entry in entries.suffix(lines) {
                print(String(decoding: try EgressJournal.encode(entry), as: UTF8.self))
            }
        }
    }
}
