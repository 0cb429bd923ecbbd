/// Names of tenants, environments, workspaces and components are DNS-1123 labels, because they end up
/// in Kubernetes object names, SPIFFE IDs and URLs.
public enum ResourceName {
    public static let maxLength = 63

    /// Throws a `ValidationError` naming `field` when `name` is not a DNS-1123 label.
    public static func validate(_ name: String, field: String) throws(ValidationError) {
        if let reason = problem(with: name) {
            throw ValidationError(field: field, reason: reason)
        }
    }

    public static func isValid(_ name: String) -> Bool { problem(with: name) == nil }

    static func problem(with name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        let bytes = Array(name.utf8)
        if bytes.count > maxLength {
            return "\"\(name.prefix(20))…\" is \(bytes.count) characters; at most \(maxLength) are allowed"
        }
        func isAlnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        for b in bytes where !(isAlnum(b) || b == 0x2D) {
            return "\"\(name)\" is not a DNS-1123 label: only lowercase letters, digits and '-' are allowed"
        }
        if !isAlnum(bytes.first!) || !isAlnum(bytes.last!) {
            return "\"\(name)\" is not a DNS-1123 label: it must start and end with a lowercase letter or digit"
        }
        return nil
    }
}
