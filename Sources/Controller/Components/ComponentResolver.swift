import Foundation
import SplitPlaneProtocol

/// Turns a workspace's components into what its agent applies: a chart rendered by `helm template`,
/// or manifests taken as given; each object checked for the agent's namespace, images pointed at the
/// environment's registry, and the whole hashed as a `ResolvedComponent`.
public struct ComponentResolver: Sendable {
    public var helm: HelmRenderer
    /// Provisioned into the observability stack's Grafana.
    public var dashboards: [String: String]

    public init(helm: HelmRenderer, dashboards: [String: String] = BundledDashboards.all) {
        self.helm = helm
        self.dashboards = dashboards
    }

    /// Every component of `spec`, in order; the first failure throws and nothing is returned.
    public func resolve(_ spec: WorkspaceSpec, for settings: EnvironmentSettings) async throws(ComponentResolutionError) -> [ResolvedComponent] {
        var resolved: [ResolvedComponent] = []
        for component in spec.components {
            resolved.append(try await resolve(component, for: settings))
        }
        return resolved
    }

    public func resolve(_ component: ComponentSpec, for settings: EnvironmentSettings) async throws(ComponentResolutionError) -> ResolvedComponent {
        let objects: [JSONValue]
        if let chart = component.chart {
            objects = try await helm.render(release: component.name, chart: chart, namespace: settings.namespace)
        } else if let observability = component.observability {
            objects = ObservabilityStack(source: observability, namespace: settings.namespace, dashboards: dashboards).manifests()
        } else {
            objects = component.manifests ?? []
        }
        let rewriter = ImageRewriter(registry: settings.registry)
        var manifests: [JSONValue] = []
        for (index, object) in objects.enumerated() {
            try Self.check(object, index: index, component: component.name, rendered: component.chart != nil, namespace: settings.namespace)
            manifests.append(rewriter.rewrite(manifest: object))
        }
        do {
            return try ResolvedComponent(name: component.name, manifests: manifests)
        } catch {
            throw ComponentResolutionError(component: component.name, reason: "cannot encode the resolved manifests: \(error)")
        }
    }

    /// An object the agent can apply (`KubernetesObjectRules`): named validly, namespaced, in no namespace but its own.
    static func check(_ object: JSONValue, index: Int, component: String, rendered: Bool, namespace: String) throws(ComponentResolutionError) {
        let place = rendered ? "rendered object \(index + 1)" : "manifests[\(index)]"
        if let refusal = KubernetesObjectRules.refusal(of: object, namespace: namespace) {
            throw ComponentResolutionError(component: component, reason: "\(place) \(refusal)")
        }
    }
}

/// Why a component could not be resolved; answered as `422` with this text as the detail.
public struct ComponentResolutionError: Error, Equatable, CustomStringConvertible {
    public var workspace: String?
    public var component: String
    public var reason: String

    public init(workspace: String? = nil, component: String, reason: String) {
        self.workspace = workspace
        self.component = component
        self.reason = reason
    }

    public var description: String {
        (workspace.map { "workspace \"\($0)\", " } ?? "") + "component \"\(component)\": \(reason)"
    }
}
