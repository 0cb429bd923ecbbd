import Crypto
import Foundation

/// A component of a desired workspace as the agent sees it in the long poll: name and content hash.
public struct ComponentRef: Codable, Equatable, Hashable, Sendable {
    public var name: String
    /// `sha256:<hex>` of the resolved component (see `ResolvedComponent.hash(name:manifests:)`).
    public var hash: String
    /// Number of Kubernetes objects the component resolves to.
    public var objects: Int

    public init(name: String, hash: String, objects: Int) {
        self.name = name
        self.hash = hash
        self.objects = objects
    }
}

/// `GET /agent/v1/components/{hash}`: a component resolved by the controller — Helm chart rendered
/// or manifests taken as given, images rewritten to the environment's registry — ready to apply.
public struct ResolvedComponent: Codable, Equatable, Sendable {
    public var apiVersion: String = APIVersion.agentV1
    public var kind: String = "ResolvedComponent"
    public var name: String
    public var hash: String
    public var manifests: [JSONValue]

    public init(name: String, manifests: [JSONValue]) throws {
        self.name = name
        self.manifests = manifests
        self.hash = try Self.hash(name: name, manifests: manifests)
    }

    public var ref: ComponentRef { ComponentRef(name: name, hash: hash, objects: manifests.count) }

    /// SHA-256 over the canonical (sorted-key) JSON of name and manifests. Both planes compute it, so
    /// the agent can check that what it received is what the desired state named.
    public static func hash(name: String, manifests: [JSONValue]) throws -> String {
        let canonical = try StrictJSON.encode(JSONValue.object(["name": .string(name), "manifests": .array(manifests)]))
        return "sha256:" + Hex.encode(SHA256.hash(data: canonical))
    }

    /// `sha256:` and 64 lowercase hex digits: the only form a hash takes before it becomes part of a
    /// URL or a file name.
    public static func isContentHash(_ hash: String) -> Bool {
        hash.hasPrefix("sha256:") && hash.utf8.count == 71 && hash.utf8.dropFirst(7).allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Throws unless this is the component `expected` names and its content hashes to it (corruption,
    /// a controller bug, or an answer to another request).
    public func verify(as expected: String) throws(ValidationError) {
        guard hash == expected else {
            throw ValidationError(field: "hash", reason: "asked for component \(expected), received \(hash)")
        }
        let actual = try? Self.hash(name: name, manifests: manifests)
        guard actual == hash else {
            throw ValidationError(field: "hash", reason: "component \"\(name)\" content hashes to \(actual ?? "?"), not \(hash)")
        }
    }

    /// Throws when the content does not hash to the hash it carries.
    public func verify() throws(ValidationError) { try verify(as: hash) }
}
