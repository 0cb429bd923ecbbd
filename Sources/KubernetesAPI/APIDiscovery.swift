import Foundation
import SplitPlaneProtocol

/// The REST resource behind a kind: where its objects live and whether they belong to a namespace.
public struct APIResource: Equatable, Sendable {
    public var group: String
    public var version: String
    /// Plural resource name in paths, e.g. `deployments`.
    public var name: String
    public var kind: String
    public var namespaced: Bool

    public init(group: String, version: String, name: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.name = name
        self.kind = kind
        self.namespaced = namespaced
    }

    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// Path of one object (namespace ignored for cluster-scoped resources), or of the collection when `name` is nil.
    public func path(namespace: String, name objectName: String?) -> String {
        var path = groupVersionPath
        if namespaced { path += "/namespaces/\(Self.escape(namespace))" }
        path += "/\(self.name)"
        if let objectName { path += "/\(Self.escape(objectName))" }
        return path
    }

    private static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? segment
    }
}

/// Kind → resource mapping from the API server's discovery documents (`/api/v1`,
/// `/apis/<group>/<version>`), fetched per group-version when first needed and again when a kind is
/// missing (a CRD installed since).
public actor APIDiscovery {
    private let client: KubernetesClient
    private var groupVersions: [String: [String: APIResource]] = [:]

    public init(client: KubernetesClient) { self.client = client }

    /// The resource serving `kind` in `apiVersion` (`v1`, `apps/v1`), or nil if the server has none.
    public func resource(apiVersion: String, kind: String) async throws -> APIResource? {
        if let known = groupVersions[apiVersion]?[kind] { return known }
        let resources = try await fetch(apiVersion)
        groupVersions[apiVersion] = resources
        return resources[kind]
    }

    private func fetch(_ apiVersion: String) async throws -> [String: APIResource] {
        let parts = apiVersion.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts[0])
        let path = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        let list: JSONValue
        do {
            list = try await client.get(path)
        } catch let error as KubernetesAPIError where error.isNotFound {
            return [:]
        }
        var byKind: [String: APIResource] = [:]
        for entry in list["resources"]?.arrayValue ?? [] {
            // Subresources (`deployments/status`) share their parent's kind; only top-level resources count.
            guard let name = entry["name"]?.stringValue, !name.contains("/"), let kind = entry["kind"]?.stringValue else { continue }
            let namespaced = entry["namespaced"] == .bool(true)
            byKind[kind] = APIResource(group: group, version: version, name: name, kind: kind, namespaced: namespaced)
        }
        return byKind
    }
}
