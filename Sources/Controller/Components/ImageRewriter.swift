import SplitPlaneProtocol

/// Points `ghcr.io` images at the environment's pull-through proxy of GHCR:
/// `ghcr.io/<path>[:tag|@digest]` → `<registry>/<path>[:tag|@digest]`, tag and digest unchanged.
/// Images from anywhere else, and anything that does not look like a GHCR image, are left alone.
public struct ImageRewriter: Sendable {
    public static let sourceRegistry = "ghcr.io"

    /// nil: images stay as given.
    public let registry: String?

    public init(registry: String?) {
        self.registry = registry
    }

    /// One image reference.
    public func rewrite(image: String) -> String {
        guard let registry, image.hasPrefix(Self.sourceRegistry + "/") else { return image }
        let path = image.dropFirst(Self.sourceRegistry.count + 1)
        // `ghcr.io/`, `ghcr.io//x`, `ghcr.io/:tag`, `ghcr.io/@sha256:…` are not images of GHCR.
        guard let first = path.first, first != "/", first != ":", first != "@", !path.contains(where: \.isWhitespace) else { return image }
        return registry + "/" + path
    }

    /// Every container image of a manifest whose kind carries a pod spec: Pod (`spec`); Deployment,
    /// StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job (`spec.template.spec`); CronJob
    /// (`spec.jobTemplate.spec.template.spec`); PodTemplate (`template.spec`); and any other kind with a
    /// pod template at `spec.template.spec` (e.g. Argo Rollouts). Other objects come back unchanged.
    public func rewrite(manifest: JSONValue) -> JSONValue {
        guard registry != nil, case .object(let object) = manifest else { return manifest }
        let kind: String? = if case .string(let kind)? = object["kind"] { kind } else { nil }
        let paths: [[String]] =
            switch kind {
            case "Pod": [["spec"]]
            case "CronJob": [["spec", "jobTemplate", "spec", "template", "spec"]]
            case "PodTemplate": [["template", "spec"]]
            default: [["spec", "template", "spec"]]
            }
        var result = manifest
        for path in paths {
            result = result.updating(path) { podSpec in rewrite(podSpec: podSpec) }
        }
        return result
    }

    /// `containers`, `initContainers` and `ephemeralContainers` of a pod spec.
    func rewrite(podSpec: JSONValue) -> JSONValue {
        guard case .object(var spec) = podSpec else { return podSpec }
        for field in ["containers", "initContainers", "ephemeralContainers"] {
            guard case .array(let containers)? = spec[field] else { continue }
            spec[field] = .array(
                containers.map { container in
                    guard case .object(var fields) = container, case .string(let image)? = fields["image"] else { return container }
                    fields["image"] = .string(rewrite(image: image))
                    return .object(fields)
                })
        }
        return .object(spec)
    }
}

extension JSONValue {
    /// The value with the object member at `path` replaced by `transform` of it; unchanged when the
    /// path does not lead through objects to an existing member.
    func updating(_ path: some Collection<String>, _ transform: (JSONValue) -> JSONValue) -> JSONValue {
        guard let key = path.first else { return transform(self) }
        guard case .object(var object) = self, let child = object[key] else { return self }
        object[key] = child.updating(path.dropFirst(), transform)
        return .object(object)
    }
}
