import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a program to completion with a time limit and a cap on what it may print, without a shell.
/// Output is read while the program runs, so a chatty program never blocks on a full pipe.
struct Subprocess: Sendable {
    struct Result: Sendable {
        var status: Int32
        var stdout: Data
        /// At most `stderrLimit` bytes (the start of what was printed).
        var stderr: Data
        var timedOut: Bool
        /// stdout passed `stdoutLimit`; the program was stopped.
        var stdoutOverflow: Bool
    }

    var executable: String
    var arguments: [String]
    var timeout: Duration
    var stdoutLimit: Int
    var stderrLimit = 64 * 1024

    func run() async throws -> Result {
        let run = Running(self)
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Swift.Result { try run.wait() }) }
        }
    }

    /// The blocking part, on its own thread.
    private final class Running: @unchecked Sendable {
        let spec: Subprocess
        let lock = NSLock()
        var stdout = Data()
        var stderr = Data()
        var overflow = false
        var timedOut = false
        /// Set once the program has been reaped, so its pid is never signalled after it may be reused.
        var exited = false

        init(_ spec: Subprocess) { self.spec = spec }

        func wait() throws -> Result {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: spec.executable)
            process.arguments = spec.arguments
            // The controller's own settings (QBEAST_ADMIN_TOKEN, QBEAST_SLACK_SIGNING_SECRET …) stay with it.
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QBEAST_") }
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let pid = process.processIdentifier

            let deadline = DispatchWorkItem { [self] in
                lock.withLock { timedOut = true }
                stop(pid)
            }
            let seconds = spec.timeout.timeInterval
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: deadline)

            let readers = DispatchGroup()
            readers.enter()
            Thread.detachNewThread { [self] in
                drain(out.fileHandleForReading) { chunk in
                    lock.withLock {
                        guard !overflow else { return }
                        if stdout.count + chunk.count > spec.stdoutLimit {
                            overflow = true
                            signal(pid, SIGTERM)
                            DispatchQueue.global().asyncAfter(deadline: .now() + 1) { [self] in lock.withLock { signal(pid, SIGKILL) } }
                        } else {
                            stdout.append(chunk)
                        }
                    }
                }
                readers.leave()
            }
            readers.enter()
            Thread.detachNewThread { [self] in
                drain(err.fileHandleForReading) { chunk in
                    lock.withLock { stderr.append(chunk.prefix(max(0, spec.stderrLimit - stderr.count))) }
                }
                readers.leave()
            }
            process.waitUntilExit()
            lock.withLock { exited = true }
            deadline.cancel()
            // A grandchild holding the pipes open must not hold us: give the readers a moment, then go.
            _ = readers.wait(timeout: .now() + 2)
            return lock.withLock {
                Result(status: process.terminationStatus, stdout: stdout, stderr: stderr, timedOut: timedOut, stdoutOverflow: overflow)
            }
        }

        private func drain(_ handle: FileHandle, _ chunk: (Data) -> Void) {
            while let data = try? handle.read(upToCount: 64 * 1024), !data.isEmpty {
                chunk(data)
            }
        }

        /// SIGTERM, then SIGKILL if the program is still there a second later.
        private func stop(_ pid: Int32) {
            lock.withLock { signal(pid, SIGTERM) }
            DispatchQueue.global().asyncAfter(deadline: .now() + 1) { [self] in lock.withLock { signal(pid, SIGKILL) } }
        }

        /// Call with the lock held.
        private func signal(_ pid: Int32, _ signal: Int32) {
            if !exited { kill(pid, signal) }
        }
    }
}
