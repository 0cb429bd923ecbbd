import SplitPlaneProtocol

extension KubernetesTestServer {
    /// A Status the server answers instead of handling matching requests. nil fields match anything;
    /// `resource` is the plural resource name (`deployments`, or `deployments.apps`).
    public struct InjectedFailure: Sendable {
        public var method: String?
        public var resource: String?
        public var namespace: String?
        public var name: String?
        public var code: Int
        public var reason: String
        public var message: String
        /// Builds the message from the request's object name when the failure matches any name.
        let messageForName: (@Sendable (String?) -> String)?
        /// Matches only writes (create, update, patch) when `method` is nil: how quota admission applies.
        var onlyWrites = false

        public init(
            method: String? = nil, resource: String? = nil, namespace: String? = nil, name: String? = nil,
            code: Int, reason: String, message: String
        ) {
            self.init(
                method: method, resource: resource, namespace: namespace, name: name, code: code, reason: reason,
                message: message, messageForName: nil)
        }

        init(
            method: String?, resource: String?, namespace: String?, name: String?, code: Int, reason: String, message: String,
            messageForName: (@Sendable (String?) -> String)?
        ) {
            self.method = method
            self.resource = resource
            self.namespace = namespace
            self.name = name
            self.code = code
            self.reason = reason
            self.message = message
            self.messageForName = messageForName
        }

        /// RBAC's 403: `deployments.apps "web" is forbidden: User "system:serviceaccount:qbeast:qbeast-agent" cannot
        /// patch resource "deployments" in API group "apps" in the namespace "qbeast"`. `verb` is the RBAC verb
        /// (get, list, watch, create, update, patch, delete); it selects the HTTP method matched.
        public static func forbidden(
            verb: String, resource: String, namespace: String? = nil, name: String? = nil,
            user: String = "system:serviceaccount:qbeast:qbeast-agent"
        ) -> InjectedFailure {
            let known = KubeResources.find(resource: resource)
            let plural = known?.name ?? resource
            let group = known?.group ?? ""
            let qualified = known?.qualifiedResource ?? resource
            let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
            let reason = "User \"\(user)\" cannot \(verb) resource \"\(plural)\" in API group \"\(group)\" \(scope)"
            let render: @Sendable (String?) -> String = { requestName in
                guard let requestName = requestName ?? name, !requestName.isEmpty else { return "\(qualified) is forbidden: \(reason)" }
                return "\(qualified) \"\(requestName)\" is forbidden: \(reason)"
            }
            let methods = [
                "get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT", "patch": "PATCH",
                "delete": "DELETE", "deletecollection": "DELETE",
            ]
            return InjectedFailure(
                method: methods[verb], resource: plural, namespace: namespace, name: name, code: 403, reason: "Forbidden",
                message: render(name), messageForName: render)
        }

        /// ResourceQuota admission's 403: `pods "web-1" is forbidden: exceeded quota: compute, requested:
        /// requests.cpu=2, used: requests.cpu=0, limited: requests.cpu=1`. Quota is checked on create and update.
        public static func quotaExceeded(
            resource: String, namespace: String? = nil, name: String? = nil,
            message: String = "exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=0, limited: requests.cpu=1"
        )
            -> InjectedFailure
        {
            let qualified = KubeResources.find(resource: resource)?.qualifiedResource ?? resource
            let plural = KubeResources.find(resource: resource)?.name ?? resource
            let render: @Sendable (String?) -> String = { requestName in
                "\(qualified) \"\(requestName ?? name ?? "")\" is forbidden: \(message)"
            }
            var failure = InjectedFailure(
                method: nil, resource: plural, namespace: namespace, name: name, code: 403, reason: "Forbidden",
                message: render(name), messageForName: render)
            failure.onlyWrites = true
            return failure
        }

        func matches(method: String, request: ObjectRequest) -> Bool {
            if let wanted = self.method, wanted != method { return false }
            if let resource, resource != request.resource.name && resource != request.resource.qualifiedResource { return false }
            if let namespace, namespace != request.namespace { return false }
            if let name, name != request.name { return false }
            return self.method != nil || !onlyWrites || ["POST", "PUT", "PATCH"].contains(method)
        }

        /// `objectName`: the path's name, or on create the body's.
        func status(for request: ObjectRequest, objectName: String?) -> KubeStatusError {
            var details: [String: JSONValue] = ["kind": .string(request.resource.name)]
            if let objectName { details["name"] = .string(objectName) }
            if !request.resource.group.isEmpty { details["group"] = .string(request.resource.group) }
            return KubeStatusError(code: code, reason: reason, message: messageForName?(objectName) ?? message, details: .object(details))
        }
    }
}
