extension KubernetesTestServer {
    /// One request as the Kubernetes test server received it.
    public struct RecordedRequest: Sendable {
        public let method: String
        public let path: String
        public let query: [String: String]
        public let contentType: String?
        public let body: String?
    }
}
