import SplitPlaneProtocol

/// The identity an agent certificate carries as its URI SAN:
/// `spiffe://<trust-domain>/tenant/<tenant>/environment/<environment>`.
public struct SPIFFEIdentity: Hashable, Sendable, CustomStringConvertible {
    public var trustDomain: String
    public var tenant: String
    public var environment: String

    public init(trustDomain: String, tenant: String, environment: String) {
        self.trustDomain = trustDomain
        self.tenant = tenant
        self.environment = environment
    }

    public var uri: String { "spiffe://\(trustDomain)/tenant/\(tenant)/environment/\(environment)" }
    public var description: String { uri }

    /// Parses a SPIFFE URI; nil unless it is a valid SPIFFE ID of exactly the agent shape.
    public init?(uri: String) {
        guard let identity = try? Self.parse(uri) else { return nil }
        self = identity
    }

    /// Parses `uri` strictly, as the SPIFFE ID specification reads: scheme `spiffe`, a trust domain of
    /// lowercase letters, digits, '.', '-' and '_' (no port, no user), a path of non-empty segments of
    /// letters, digits, '.', '-' and '_' other than '.' and '..', nothing percent-encoded, no query or
    /// fragment; then the agent shape `/tenant/<t>/environment/<e>` with DNS-1123 names. Nothing is
    /// normalised: a spelling the specification rejects is refused, not repaired.
    public static func parse(_ uri: String) throws(SPIFFEIDError) -> SPIFFEIdentity {
        let bytes = Array(uri.utf8)
        guard bytes.count <= 2048 else { throw SPIFFEIDError("is longer than 2048 bytes") }
        guard uri.hasPrefix("spiffe://") else { throw SPIFFEIDError("does not start with spiffe://") }
        let rest = bytes.dropFirst("spiffe://".count)
        let slash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        let trustDomain = rest[rest.startIndex..<slash]
        guard !trustDomain.isEmpty else { throw SPIFFEIDError("has an empty trust domain") }
        for byte in trustDomain where !(isLowerAlnum(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")) {
            throw SPIFFEIDError(
                byte >= 0x41 && byte <= 0x5A
                    ? "has an uppercase trust domain; SPIFFE trust domains are lowercase"
                    : "has a trust domain with a character other than lowercase letters, digits, '.', '-' and '_'")
        }
        let path = rest[slash...]
        let segments = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        for segment in segments {
            if segment.isEmpty { throw SPIFFEIDError("has an empty path segment") }
            if segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) { throw SPIFFEIDError("has a '.' or '..' path segment") }
            for byte in segment where !(isAlnum(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")) {
                switch byte {
                case UInt8(ascii: "%"): throw SPIFFEIDError("is percent-encoded")
                case UInt8(ascii: "?"): throw SPIFFEIDError("has a query")
                case UInt8(ascii: "#"): throw SPIFFEIDError("has a fragment")
                default: throw SPIFFEIDError("has a path character other than letters, digits, '.', '-' and '_'")
                }
            }
        }
        let parts = segments.map { String(decoding: $0, as: UTF8.self) }
        guard parts.count == 4, parts[0] == "tenant", parts[2] == "environment",
            ResourceName.isValid(parts[1]), ResourceName.isValid(parts[3])
        else {
            throw SPIFFEIDError("is not an agent identity (spiffe://<trust-domain>/tenant/<t>/environment/<e>)")
        }
        return SPIFFEIdentity(trustDomain: String(decoding: trustDomain, as: UTF8.self), tenant: parts[1], environment: parts[3])
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
    private static func isAlnum(_ byte: UInt8) -> Bool { isLowerAlnum(byte) || (0x41...0x5A).contains(byte) }
}

/// Why a URI is not an agent's SPIFFE ID; reads after the URI ("… has an uppercase trust domain").
public struct SPIFFEIDError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
