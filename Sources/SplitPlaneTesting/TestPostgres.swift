import Controller
import ControllerModel
import Foundation
import Logging
import NIOPosix
import PostgresDriver
import PostgresNIO
import SQLStorage
import ServiceSupport
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real, throwaway PostgreSQL for tests (Debian's `postgresql` server binaries): `initdb` into a
/// temporary directory (trust authentication, superuser `qbeast`), then `postgres` listening only on
/// 127.0.0.1 at a free port with its Unix socket inside that directory. One server per test process,
/// started on first use and stopped (directory removed) when the process exits; each test gets a
/// database of its own from `createDatabase()`.
///
/// `initdb` and `postgres` refuse to run as root. When the tests run as root, both are started through
/// `setpriv` as the unprivileged `nobody` (uid/gid 65534, no supplementary groups) — `setpriv` execs in
/// place, so the process we hold is the server itself — and the temporary directory is handed to
/// that user first.
public final class TestPostgres: Sendable {
    public let port: Int
    public let directory: URL
    private let process: Process

    /// Where the server binaries are (`QBEAST_POSTGRES_BIN` overrides); nil when not installed.
    public static var binDirectory: String? {
        if let override = ProcessInfo.processInfo.environment["QBEAST_POSTGRES_BIN"] { return override }
        let candidates =
            (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" } ?? []
        return candidates.first { FileManager.default.isExecutableFile(atPath: "\($0)/postgres") }
    }

    public static let superuser = "qbeast"

    private static let sharedServer = Mutex<Task<TestPostgres, any Error>?>(nil)

    /// The process-wide server, started on first use.
    public static func shared() async throws -> TestPostgres {
        let task = sharedServer.withLock { task in
            if let task { return task }
            let started = Task { try await TestPostgres.start() }
            task = started
            return started
        }
        let server = try await task.value
        return server
    }

    /// Starts a server of its own (most tests want `shared()` and a database of their own instead).
    public static func start() async throws -> TestPostgres {
        guard let bin = binDirectory else { throw TestServerError.notInstalled("PostgreSQL server binaries (apt-get install postgresql)") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qbeast-pg-\(UUID().uuidString.prefix(8))")
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let asRoot = getuid() == 0
        if asRoot {
            // Only `nobody` works in here; the directory is removed by root afterwards.
            try FileManager.default.setAttributes([.ownerAccountID: 65534, .groupOwnerAccountID: 65534], ofItemAtPath: directory.path)
        }
        func command(_ binary: String, _ arguments: [String]) -> Process {
            let process = Process()
            if asRoot {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
                process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "\(bin)/\(binary)"] + arguments
            } else {
                process.executableURL = URL(fileURLWithPath: "\(bin)/\(binary)")
                process.arguments = arguments
            }
            process.currentDirectoryURL = directory
            return process
        }
        let log = directory.appendingPathComponent("initdb.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let initdb = command("initdb", ["-D", data.path, "-U", superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        let initLog = try FileHandle(forWritingTo: log)
        initdb.standardOutput = initLog
        initdb.standardError = initLog
        try initdb.run()
        initdb.waitUntilExit()
        try? initLog.close()
        guard initdb.terminationStatus == 0 else {
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: directory)
            throw TestServerError.failed("initdb failed (\(initdb.terminationStatus)): \(output.suffix(2000))")
        }
        let port = try freeLoopbackPort()
        let server = command(
            "postgres",
            [
                "-D", data.path, "-p", "\(port)",
                "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=\(directory.path)",
                "-c", "max_connections=400", "-c", "shared_buffers=32MB",
                // A test database is thrown away: no durability work.
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "logging_collector=off", "-c", "log_min_messages=fatal",
            ])
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        let postgres = TestPostgres(port: port, directory: directory, process: server)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        var lastError: (any Error)?
        while clock.now < deadline, server.isRunning {
            do {
                try await postgres.withConnection(database: "postgres") { try await $0.query("SELECT 1", logger: Self.logger) }
                registerExitCleanup(postgres)
                return postgres
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        postgres.stop()
        throw TestServerError.failed("PostgreSQL did not accept connections on 127.0.0.1:\(port): \(lastError.map { String(reflecting: $0) } ?? "it exited")")
    }

    private init(port: Int, directory: URL, process: Process) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    static let logger = Logger(label: "test-postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A fresh, empty database; `dropDatabase` it when done.
    public func createDatabase() async throws -> PostgresURL {
        let name = "test_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try await withConnection(database: "postgres") { try await $0.query("CREATE DATABASE \(unescaped: name)", logger: Self.logger) }
        return url(database: name)
    }

    public func dropDatabase(_ url: PostgresURL) async {
        _ = try? await withConnection(database: "postgres") {
            try await $0.query("DROP DATABASE IF EXISTS \(unescaped: url.database) WITH (FORCE)", logger: Self.logger)
        }
    }

    public func url(database: String) -> PostgresURL {
        PostgresURL(host: "127.0.0.1", port: port, user: Self.superuser, password: nil, database: database, sslMode: "disable")
    }

    /// One connection (not a pool), closed afterwards.
    public func withConnection<T: Sendable>(database: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let configuration = PostgresConnection.Configuration(
            host: "127.0.0.1", port: port, username: Self.superuser, password: nil,
            database: database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Self.logger)
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Fast shutdown (SIGINT) and removal of the data directory.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGINT)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

private let startedServers = Mutex<[TestPostgres]>([])

private func registerExitCleanup(_ server: TestPostgres) {
    let first = startedServers.withLock { servers in
        servers.append(server)
        return servers.count == 1
    }
    if first {
        atexit {
            for server in startedServers.withLock({ $0 }) { server.stop() }
        }
    }
}

/// The two store implementations, for tests parameterised over both (`@Test(arguments: TestStoreKind.allCases)`).
public enum TestStoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// A fresh database for a `TestController`: an SQLite file in `directory`, or a new database on
    /// the shared `TestPostgres` (its URL). `drop` it when done.
    public func freshDatabase(in directory: TemporaryDirectory) async throws -> String {
        switch self {
        case .sqlite: directory.path("controller.sqlite")
        case .postgres: "\(try await TestPostgres.shared().createDatabase())"
        }
    }

    /// Drops a database `freshDatabase` made on PostgreSQL (SQLite files go with their directory).
    public static func drop(_ database: String) async {
        guard PostgresURL.isPostgres(database), let url = try? PostgresURL(database) else { return }
        await (try? await TestPostgres.shared())?.dropDatabase(url)
    }
}

/// A store of either kind on a fresh database: an SQLite file in a temporary directory, or a database
/// of its own on the shared `TestPostgres`. `close()` removes it.
public final class TestStore: Sendable {
    public let kind: TestStoreKind
    public let store: any ControllerStore
    /// What `--database` / `ControllerConfiguration.databasePath` would be for this database.
    public let databasePath: String
    private let cleanup: @Sendable () async -> Void

    public static func open(_ kind: TestStoreKind) async throws -> TestStore {
        switch kind {
        case .sqlite:
            let directory = try TemporaryDirectory()
            let path = directory.path("controller.sqlite")
            return TestStore(kind: kind, store: try SQLStore.sqlite(path: path), databasePath: path, cleanup: { directory.remove() })
        case .postgres:
            let server = try await TestPostgres.shared()
            let url = try await server.createDatabase()
            let store = try await SQLStore.postgres(url, logger: TestPostgres.logger, maximumConnections: 4)
            return TestStore(
                kind: kind, store: store, databasePath: "\(url)",
                cleanup: {
                    await store.close()
                    await server.dropDatabase(url)
                })
        }
    }

    private init(kind: TestStoreKind, store: any ControllerStore, databasePath: String, cleanup: @escaping @Sendable () async -> Void) {
        self.kind = kind
        self.store = store
        self.databasePath = databasePath
        self.cleanup = cleanup
    }

    public func close() async { await cleanup() }
}
