import Foundation
import NIOSSL
import PostgresNIO

/// `postgres://user:password@host:port/database?sslmode=disable|prefer|require`: what `--database`
/// takes to select the PostgreSQL store (anything else is an SQLite path).
public struct PostgresURL: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: String

    /// True for a `postgres://` or `postgresql://` URL.
    public static func isPostgres(_ value: String) -> Bool {
        value.hasPrefix("postgres://") || value.hasPrefix("postgresql://")
    }

    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String, sslMode: String = "disable") {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
    }

    public init(_ value: String) throws(PostgresURLError) {
        guard Self.isPostgres(value), let components = URLComponents(string: value) else {
            throw PostgresURLError("not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else { throw PostgresURLError("the PostgreSQL URL names no host") }
        guard let user = components.user?.removingPercentEncoding, !user.isEmpty else {
            throw PostgresURLError("the PostgreSQL URL names no user (postgres://user:password@host:port/database)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw PostgresURLError("the PostgreSQL URL names no database (postgres://user:password@host:port/database)") }
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard ["disable", "prefer", "require", "verify-full"].contains(sslMode) else {
            throw PostgresURLError("sslmode \"\(sslMode)\" is not supported (disable, prefer, require, verify-full)")
        }
        self.init(
            host: host, port: components.port ?? 5432, user: user, password: components.password?.removingPercentEncoding,
            database: database, sslMode: sslMode)
    }

    /// The URL with the password masked: what logs and errors may show.
    public var description: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?sslmode=\(sslMode)"
    }

    public func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable":
            tls = .disable
        case "require":
            // libpq's `require`: encrypted, the server certificate not verified.
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            tls = .require(configuration)
        case "verify-full":
            tls = .require(.makeClientConfiguration())
        default:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            tls = .prefer(configuration)
        }
        return PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }
}

public struct PostgresURLError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
