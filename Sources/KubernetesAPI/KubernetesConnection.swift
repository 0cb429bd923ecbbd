import Foundation
import NIOSSL
import Yams

/// Where the Kubernetes API server is and how the agent proves who it is: the pod's service account
/// in the cluster, or a kubeconfig during development.
public struct KubernetesConnection: Sendable {
    public enum Credential: Sendable {
        case none
        /// A fixed bearer token (kubeconfig `token`).
        case token(String)
        /// A token file re-read as it rotates (the projected service-account token, kubeconfig `tokenFile`).
        case tokenFile(String)
    }

    /// `https://10.0.0.1:443`, or `http://127.0.0.1:…` for the test API server.
    public var server: String
    /// Namespace the agent installs into and is confined to.
    public var namespace: String
    public var credential: Credential
    /// PEM CA bundle the API server's certificate must chain to (nil: system roots).
    public var certificateAuthorityPEM: [UInt8]?
    /// Client certificate and key (PEM), when the kubeconfig user authenticates with one.
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?

    public init(
        server: String, namespace: String, credential: Credential = .none, certificateAuthorityPEM: [UInt8]? = nil,
        clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil
    ) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.namespace = namespace
        self.credential = credential
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
    }

    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The pod's own configuration, as client-go's `rest.InClusterConfig` reads it.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String = serviceAccountDirectory, namespace: String? = nil
    ) throws -> KubernetesConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw KubernetesConfigurationError("not running in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let ca = try read("\(directory)/ca.crt", what: "service-account CA")
        let ownNamespace =
            try namespace
            ?? String(decoding: read("\(directory)/namespace", what: "service-account namespace"), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try read("\(directory)/token", what: "service-account token")
        return KubernetesConnection(
            server: "https://\(hostPart):\(port)", namespace: ownNamespace,
            credential: .tokenFile("\(directory)/token"), certificateAuthorityPEM: ca)
    }

    /// The current context of a kubeconfig file (or the one named), for running the agent outside a cluster.
    public static func kubeconfig(path: String, context name: String? = nil, namespace: String? = nil) throws -> KubernetesConnection {
        let text = String(decoding: try read(path, what: "kubeconfig"), as: UTF8.self)
        guard let document = try Yams.load(yaml: text) as? [String: Any] else {
            throw KubernetesConfigurationError("\(path): not a kubeconfig (expected a YAML mapping)")
        }
        func named(_ list: String, _ entry: String) throws -> [String: Any] {
            let items = document[list] as? [[String: Any]] ?? []
            guard let item = items.first(where: { $0["name"] as? String == entry }), let body = item[String(list.dropLast())] as? [String: Any] else {
                throw KubernetesConfigurationError("\(path): no \(list.dropLast()) named \"\(entry)\"")
            }
            return body
        }
        guard let contextName = name ?? document["current-context"] as? String else {
            throw KubernetesConfigurationError("\(path): no current-context; pass a context name")
        }
        let context = try named("contexts", contextName)
        guard let clusterName = context["cluster"] as? String else {
            throw KubernetesConfigurationError("\(path): context \"\(contextName)\" names no cluster")
        }
        let cluster = try named("clusters", clusterName)
        guard let server = cluster["server"] as? String else { throw KubernetesConfigurationError("\(path): cluster \"\(clusterName)\" has no server") }
        let user = try (context["user"] as? String).map { try named("users", $0) } ?? [:]
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func pem(_ dataKey: String, _ fileKey: String, in section: [String: Any]) throws -> [UInt8]? {
            if let data = section[dataKey] as? String {
                guard let decoded = Data(base64Encoded: data) else { throw KubernetesConfigurationError("\(path): \(dataKey) is not base64") }
                return Array(decoded)
            }
            if let file = section[fileKey] as? String {
                return try read(file.hasPrefix("/") ? file : base.appendingPathComponent(file).path, what: fileKey)
            }
            return nil
        }
        var credential = Credential.none
        if let token = user["token"] as? String { credential = .token(token) }
        if let file = user["tokenFile"] as? String { credential = .tokenFile(file.hasPrefix("/") ? file : base.appendingPathComponent(file).path) }
        return KubernetesConnection(
            server: server, namespace: namespace ?? context["namespace"] as? String ?? "default", credential: credential,
            certificateAuthorityPEM: try pem("certificate-authority-data", "certificate-authority", in: cluster),
            clientCertificatePEM: try pem("client-certificate-data", "client-certificate", in: user),
            clientKeyPEM: try pem("client-key-data", "client-key", in: user))
    }

    public func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = certificateAuthorityPEM { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca)) }
        if let certificate = clientCertificatePEM, let key = clientKeyPEM {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
        }
        return tls
    }

    private static func read(_ path: String, what: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubernetesConfigurationError("cannot read the \(what) at \(path)")
        }
        return Array(data)
    }
}

public struct KubernetesConfigurationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
