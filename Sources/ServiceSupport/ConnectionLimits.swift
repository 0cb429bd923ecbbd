/// What one listener lets a client hold: how long it may take to finish the TLS handshake, to send a
/// request's head and body, and to stay idle between requests, and how many connections may be open
/// at once (in all, and per client certificate where there is one). A client that never finishes
/// a handshake or trickles bytes is cut off instead of holding a connection for good.
public struct ConnectionLimits: Sendable, Equatable {
    public var handshakeTimeout: Duration
    /// From the first byte of a request (or the connection's start) to its complete head.
    public var requestHeadTimeout: Duration
    /// From a request's head to the end of its body.
    public var requestBodyTimeout: Duration
    /// Longest a connection may stay open with no request in progress (HTTP/1.1 keep-alive, HTTP/2 with no stream).
    public var idleTimeout: Duration
    public var maxConnections: Int
    /// Per verified client certificate (the agent gateway); nil where clients present none.
    public var maxConnectionsPerCertificate: Int?

    public init(
        handshakeTimeout: Duration = .seconds(10), requestHeadTimeout: Duration = .seconds(10),
        requestBodyTimeout: Duration = .seconds(60), idleTimeout: Duration = .seconds(75),
        maxConnections: Int, maxConnectionsPerCertificate: Int? = nil
    ) {
        self.handshakeTimeout = handshakeTimeout
        self.requestHeadTimeout = requestHeadTimeout
        self.requestBodyTimeout = requestBodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.maxConnectionsPerCertificate = maxConnectionsPerCertificate
    }
}
