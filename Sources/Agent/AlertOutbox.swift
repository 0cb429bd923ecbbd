import Foundation
import Logging
import Metrics
import SplitPlaneProtocol

/// Alert batches waiting to be accepted by the controller, one file per batch in the state
/// directory, so neither a controller outage nor an agent restart loses or reorders them.
/// Sequence numbers are assigned once, at enqueue, and never reused: the controller de-duplicates
/// on them, so a batch may be resent any number of times.
public actor AlertOutbox {
    private let directory: URL
    private let maxBatches: Int
    private let logger: Logger
    /// Sequence numbers of stored batches, oldest first.
    private var pending: [Int64] = []
    private var nextSequence: Int64 = 1
    /// Batches dropped (oldest first) because the outbox was full, not yet reported to the controller.
    private var unreportedDrops: Int64 = 0
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    public let instance: String

    public init(directory: URL, instance: String, maxBatches: Int, logger: Logger) throws {
        self.directory = directory
        self.instance = instance
        self.maxBatches = max(1, maxBatches)
        self.logger = logger
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        pending = names.compactMap { name in name.hasSuffix(".json") ? Int64(name.dropLast(5)) : nil }.sorted()
        let stored =
            (try? String(contentsOf: directory.appendingPathComponent("next-sequence"), encoding: .utf8))
            .flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 1
        nextSequence = max(stored, (pending.last ?? 0) + 1)
        unreportedDrops =
            (try? String(contentsOf: directory.appendingPathComponent("dropped"), encoding: .utf8))
            .flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        Gauge(label: "qbeast_agent_outbox_batches").record(pending.count)
    }

    public var count: Int { pending.count }

    /// Durably stores `alerts` as the next batch; returns its sequence number once it is on disk.
    @discardableResult
    public func enqueue(_ alerts: [AgentAlert]) throws -> Int64 {
        let sequence = nextSequence
        // The counter is persisted first: a crash between the two writes skips a number, never reuses one.
        try AtomicFile.write(Data("\(sequence + 1)\n".utf8), to: directory.appendingPathComponent("next-sequence"))
        nextSequence = sequence + 1
        let batch = AlertBatch(instance: instance, sequence: sequence, alerts: alerts)
        try AtomicFile.write(try StrictJSON.encode(batch), to: file(sequence))
        pending.append(sequence)
        while pending.count > maxBatches {
            let oldest = pending.removeFirst()
            try AtomicFile.remove(file(oldest))
            unreportedDrops += 1
            Counter(label: "qbeast_agent_outbox_dropped_total").increment()
            logger.error("alert outbox full; dropped the oldest batch", metadata: ["sequence": "\(oldest)", "maxBatches": "\(maxBatches)"])
        }
        try AtomicFile.write(Data("\(unreportedDrops)\n".utf8), to: directory.appendingPathComponent("dropped"))
        Gauge(label: "qbeast_agent_outbox_batches").record(pending.count)
        for waiter in waiters.values { waiter.resume() }
        waiters = [:]
        return sequence
    }

    /// The oldest batch, carrying the count of drops not yet reported; nil when empty.
    public func head() throws -> AlertBatch? {
        while let sequence = pending.first {
            do {
                var batch = try StrictJSON.decoder().decode(AlertBatch.self, from: Data(contentsOf: file(sequence)))
                batch.droppedBatches = unreportedDrops > 0 ? unreportedDrops : nil
                return batch
            } catch {
                // Only a damaged disk can get here (writes are atomic). Keep the file for inspection, move on.
                logger.error("unreadable outbox batch set aside", metadata: ["sequence": "\(sequence)", "error": "\(error)"])
                let quarantine = directory.appendingPathComponent("unreadable")
                try FileManager.default.createDirectory(at: quarantine, withIntermediateDirectories: true)
                try? FileManager.default.moveItem(at: file(sequence), to: quarantine.appendingPathComponent("\(sequence).json"))
                pending.removeFirst()
            }
        }
        return nil
    }

    /// Removes a batch the controller has acknowledged (stored or recognised as a duplicate).
    public func acknowledge(_ batch: AlertBatch) throws {
        guard pending.first == batch.sequence else { return }
        try AtomicFile.remove(file(batch.sequence))
        pending.removeFirst()
        if let reported = batch.droppedBatches {
            unreportedDrops = max(0, unreportedDrops - reported)
            try AtomicFile.write(Data("\(unreportedDrops)\n".utf8), to: directory.appendingPathComponent("dropped"))
        }
        Gauge(label: "qbeast_agent_outbox_batches").record(pending.count)
    }

    /// Moves the head batch to `refused/` (kept for inspection) and counts it as dropped, so the
    /// loss is reported to the controller with the next batch.
    public func setAside(reason: String) throws {
        guard let sequence = pending.first else { return }
        let refused = directory.appendingPathComponent("refused")
        try FileManager.default.createDirectory(at: refused, withIntermediateDirectories: true)
        try? FileManager.default.moveItem(at: file(sequence), to: refused.appendingPathComponent("\(sequence).json"))
        try? Data(reason.utf8).write(to: refused.appendingPathComponent("\(sequence).reason"))
        pending.removeFirst()
        unreportedDrops += 1
        Counter(label: "qbeast_agent_outbox_dropped_total").increment()
        try AtomicFile.write(Data("\(unreportedDrops)\n".utf8), to: directory.appendingPathComponent("dropped"))
        Gauge(label: "qbeast_agent_outbox_batches").record(pending.count)
    }

    /// Returns once the outbox holds at least one batch, or the calling task is cancelled.
    public func waitUntilNotEmpty() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                if !pending.isEmpty || Task.isCancelled {
                    continuation.resume()
                } else {
                    waiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.cancelWait(id) }
        }
    }

    private func cancelWait(_ id: UUID) {
        waiters.removeValue(forKey: id)?.resume()
    }

    private func file(_ sequence: Int64) -> URL {
        // Zero-padded so a directory listing is in sequence order.
        directory.appendingPathComponent(String(format: "%020lld.json", sequence))
    }
}
