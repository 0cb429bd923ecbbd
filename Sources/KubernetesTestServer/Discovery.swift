import SplitPlaneProtocol

/// Legacy discovery documents (`/api`, `/apis`, `/apis/<group>/<version>`), `/version`, and a minimal
/// OpenAPI v3 that tells kubectl the server validates fields itself (`fieldValidation`).
enum Discovery {
    static let version: JSONValue = [
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-qbeast-test-server", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.3", "compiler": "gc",
        "platform": "linux/amd64",
    ]

    static func apiVersions(serverAddress: String) -> JSONValue {
        [
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]],
        ]
    }

    static func group(_ name: String) -> JSONValue {
        let served = KubeResources.all.first { $0.group == name }?.version ?? "v1"
        let version: JSONValue = ["groupVersion": .string("\(name)/\(served)"), "version": .string(served)]
        return ["name": .string(name), "versions": [version], "preferredVersion": version]
    }

    static var groupList: JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(KubeResources.groups.filter { !$0.isEmpty }.map(group))]
    }

    static func apiGroup(_ name: String) -> JSONValue? {
        guard KubeResources.groups.contains(name), !name.isEmpty, case .object(var object) = group(name) else { return nil }
        object["kind"] = "APIGroup"
        object["apiVersion"] = "v1"
        return .object(object)
    }

    static func resourceList(group: String, version: String) -> JSONValue? {
        let resources = KubeResources.all.filter { $0.group == group && $0.version == version }
        guard !resources.isEmpty else { return nil }
        var entries: [JSONValue] = []
        for resource in resources {
            var entry: [String: JSONValue] = [
                "name": .string(resource.name), "singularName": .string(resource.singular), "namespaced": .bool(resource.namespaced),
                "kind": .string(resource.kind), "verbs": .array(resource.verbs.map { .string($0) }),
            ]
            if !resource.shortNames.isEmpty { entry["shortNames"] = .array(resource.shortNames.map { .string($0) }) }
            if !resource.categories.isEmpty { entry["categories"] = .array(resource.categories.map { .string($0) }) }
            entries.append(.object(entry))
            if resource.hasStatus {
                entries.append([
                    "name": .string(resource.name + "/status"), "singularName": "", "namespaced": .bool(resource.namespaced),
                    "kind": .string(resource.kind), "verbs": ["get", "patch", "update"],
                ])
            }
        }
        let groupVersion = group.isEmpty ? version : "\(group)/\(version)"
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion), "resources": .array(entries)]
    }

    /// `/openapi/v3`: one document per group version.
    static var openAPIRoot: JSONValue {
        var paths: [String: JSONValue] = [:]
        for group in KubeResources.groups {
            let served = KubeResources.all.first { $0.group == group }?.version ?? "v1"
            let path = group.isEmpty ? "api/v1" : "apis/\(group)/\(served)"
            paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=0")]
        }
        return ["paths": .object(paths)]
    }

    /// The PATCH operation of each object path, tagged with its kind and listing the query
    /// parameters the server accepts (kubectl looks for `fieldValidation` there). No schemas.
    static func openAPI(group: String, version: String) -> JSONValue? {
        let resources = KubeResources.all.filter { $0.group == group && $0.version == version && !$0.createOnly }
        guard !resources.isEmpty else { return nil }
        let parameters: JSONValue = .array(
            ["dryRun", "fieldManager", "fieldValidation", "force"].map {
                ["name": .string($0), "in": "query", "schema": ["type": .string($0 == "force" ? "boolean" : "string"), "uniqueItems": true]]
            })
        var paths: [String: JSONValue] = [:]
        for resource in resources {
            let prefix = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
            let path = resource.namespaced ? "\(prefix)/namespaces/{namespace}/\(resource.name)/{name}" : "\(prefix)/\(resource.name)/{name}"
            let gvk: JSONValue = ["group": .string(group), "version": .string(version), "kind": .string(resource.kind)]
            paths[path] = [
                "patch": [
                    "operationId": .string("patch\(resource.kind)"), "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": gvk, "parameters": parameters,
                    "responses": ["200": ["description": "OK"], "201": ["description": "Created"]],
                ]
            ]
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"], "paths": .object(paths),
            "components": ["schemas": [:]],
        ]
    }
}
