import Foundation

/// Runs a program to its end and returns its exit status and combined output, without holding a
/// thread of Swift's cooperative pool while it runs. Tests run in parallel on a machine with two
/// cores (two pool threads): a test that waited for `qbctl` on a pool thread, while `qbctl` talks to a
/// controller in the same test process, could leave that controller no thread to answer on.
public enum ChildProcess {
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil
    ) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: executable)
                    process.arguments = arguments
                    if let environment { process.environment = environment }
                    let output = Pipe()
                    process.standardOutput = output
                    process.standardError = output
                    try process.run()
                    let data = output.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }
}
