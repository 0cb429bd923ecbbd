import Foundation
import NIOSSL

/// PEM material on disk, as both sides are configured.
public struct TLSFiles: Sendable, Equatable {
    public var certificate: String
    public var privateKey: String
    public var trustBundle: String

    public init(certificate: String, privateKey: String, trustBundle: String) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.trustBundle = trustBundle
    }
}

public enum TLSConfigurations {
    /// Agent gateway: the handshake fails unless the client presents a certificate chaining to the
    /// trust bundle (and still valid), so no request without a verified identity reaches a handler.
    public static func mutualServer(_ files: TLSFiles) throws -> TLSConfiguration {
        var configuration = try server(certificate: files.certificate, privateKey: files.privateKey)
        configuration.trustRoots = .certificates(try loadCertificates(files.trustBundle))
        configuration.certificateVerification = .noHostnameVerification
        return configuration
    }

    /// Operator API and enrollment: server-authenticated TLS only. The certificate and key are re-read
    /// from disk when they change (see `ReloadingCertificate`).
    public static func server(certificate: String, privateKey: String) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try loadCertificates(certificate).map { .certificate($0) },
            privateKey: .privateKey(try loadPrivateKey(privateKey))
        )
        configuration.minimumTLSVersion = .tlsv12
        try ReloadingCertificate(certificate: certificate, privateKey: privateKey).install(into: &configuration)
        return configuration
    }

    /// Agent side of the mutual TLS connection.
    public static func agentClient(_ files: TLSFiles) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = try loadCertificates(files.certificate).map { .certificate($0) }
        configuration.privateKey = .privateKey(try loadPrivateKey(files.privateKey))
        configuration.trustRoots = .certificates(try loadCertificates(files.trustBundle))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    /// Operator clients (`qbctl`): trust the given bundle, or the system roots when none is given.
    public static func operatorClient(trustBundle: String?) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let trustBundle {
            configuration.trustRoots = .certificates(try loadCertificates(trustBundle))
        }
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    static func loadCertificates(_ path: String) throws -> [NIOSSLCertificate] {
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(path)
            if certificates.isEmpty { throw TLSFileError(path: path, reason: "no PEM certificate found") }
            return certificates
        } catch let error as TLSFileError {
            throw error
        } catch {
            throw TLSFileError(path: path, reason: FileManager.default.fileExists(atPath: path) ? "not a PEM certificate file (\(error))" : "file not found")
        }
    }

    static func loadPrivateKey(_ path: String) throws -> NIOSSLPrivateKey {
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw TLSFileError(path: path, reason: FileManager.default.fileExists(atPath: path) ? "not a PEM private key (\(error))" : "file not found")
        }
    }
}

public struct TLSFileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}
