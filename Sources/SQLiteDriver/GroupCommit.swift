import SQLStorage
import Synchronization

/// Group commit: writes that arrive while a transaction is being written wait for it and then go
/// together into the next one, each inside a savepoint of its own. One `COMMIT` (one fsync) serves
/// them all; a write that fails rolls back to its savepoint and fails alone; each caller is answered
/// only after the transaction holding its write has committed. Under load (many agents' heartbeats
/// and alert batches at once) the durable commits per second stop growing with the request rate.
final class GroupCommit: Sendable {
    /// A caller's write, type-erased: `run` does its statements, `finish` answers the caller once the
    /// outcome is known (nil: committed).
    struct Job: Sendable {
        let run: @Sendable () async throws -> Void
        let finish: @Sendable ((any Error)?) -> Void
    }

    /// What a batch needs from the database: open a transaction, run each job in a savepoint, commit.
    struct Transaction: Sendable {
        let begin: @Sendable () async throws -> Void
        let savepoint: @Sendable () async throws -> Void
        let release: @Sendable () async throws -> Void
        let rollbackToSavepoint: @Sendable () async throws -> Void
        let commit: @Sendable () async throws -> Void
        let rollback: @Sendable () async -> Void
    }

    private let state = Mutex<(pending: [Job], writing: Bool)>(([], false))
    private let counts = Mutex<(transactions: Int, writes: Int)>((0, 0))
    private let transaction: Transaction
    /// Held for each batch's transaction: nothing else uses the writer connection meanwhile.
    private let writerLock: AsyncLock
    /// Most writes in one transaction, so one batch's latency stays bounded.
    let maximumBatch: Int

    init(transaction: Transaction, writerLock: AsyncLock, maximumBatch: Int = 256) {
        self.transaction = transaction
        self.writerLock = writerLock
        self.maximumBatch = maximumBatch
    }

    func submit(_ job: Job) {
        let startWriter = state.withLock { state -> Bool in
            state.pending.append(job)
            if state.writing { return false }
            state.writing = true
            return true
        }
        if startWriter { Task { await self.drain() } }
    }

    /// Writes batches until nothing is pending.
    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Job] in
                let batch = Array(state.pending.prefix(maximumBatch))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            if batch.isEmpty { return }
            _ = try? await writerLock.withLock { await write(batch) }
        }
    }

    private func write(_ batch: [Job]) async {
        do {
            try await transaction.begin()
        } catch {
            for job in batch { job.finish(error) }
            return
        }
        var outcomes: [(any Error)?] = []
        outcomes.reserveCapacity(batch.count)
        for job in batch {
            outcomes.append(await runInSavepoint(job))
        }
        do {
            try await transaction.commit()
        } catch {
            await transaction.rollback()
            for job in batch { job.finish(error) }
            return
        }
        counts.withLock {
            $0.transactions += 1; $0.writes += batch.count
        }
        for (job, outcome) in zip(batch, outcomes) { job.finish(outcome) }
    }

    /// Transactions committed and the writes they carried, since start.
    var committed: (transactions: Int, writes: Int) { counts.withLock { $0 } }

    /// The job's error, after undoing what it wrote; nil when it succeeded.
    private func runInSavepoint(_ job: Job) async -> (any Error)? {
        do {
            try await transaction.savepoint()
        } catch {
            return error
        }
        do {
            try await job.run()
            try await transaction.release()
            return nil
        } catch {
            // The transaction stays usable for the others: only this job's statements go.
            try? await transaction.rollbackToSavepoint()
            try? await transaction.release()
            return error
        }
    }
}
