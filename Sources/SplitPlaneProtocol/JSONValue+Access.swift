extension JSONValue {
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    public var intValue: Int? { numberValue.map { Int($0) } }

    /// Follows a dotted path of object keys (`status.readyReplicas`).
    public func at(_ path: String) -> JSONValue? {
        var current: JSONValue? = self
        for key in path.split(separator: ".") { current = current?[String(key)] }
        return current
    }

    /// Sets `value` at a path of object keys, creating objects on the way.
    public mutating func set(_ path: [String], to value: JSONValue) {
        guard let key = path.first else { self = value; return }
        var object = objectValue ?? [:]
        var child = object[key] ?? .object([:])
        child.set(Array(path.dropFirst()), to: value)
        object[key] = child
        self = .object(object)
    }
}
