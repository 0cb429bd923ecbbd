import Foundation

/// One alert instance of a rule, with the state Prometheus keeps for it. Persisted in the agent's
/// state directory so a restart keeps `for` progress and sent-ness.
public struct ActiveAlert: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable { case inactive, pending, firing }

    public var labels: [String: String]
    public var annotations: [String: String]
    public var state: State
    public var value: Double
    public var activeAt: Date
    public var firedAt: Date?
    public var resolvedAt: Date?
    public var lastSentAt: Date?
    public var validUntil: Date?
    public var keepFiringSince: Date?

    /// Prometheus' `needsSending`: never while pending; at once after resolving; otherwise again
    /// once `resendDelay` has passed since the last send.
    public func needsSending(at time: Date, resendDelay: Duration) -> Bool {
        if state == .pending { return false }
        if let resolvedAt, resolvedAt > (lastSentAt ?? .distantPast) { return true }
        guard let lastSentAt else { return true }
        return lastSentAt.addingTimeInterval(resendDelay.timeInterval) < time
    }

    enum CodingKeys: String, CodingKey {
        case labels, annotations, state, value, activeAt, firedAt, resolvedAt, lastSentAt, validUntil, keepFiringSince
    }

    // NaN and ±Inf are legal sample values but not JSON numbers: store them as strings.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        labels = try container.decode([String: String].self, forKey: .labels)
        annotations = try container.decode([String: String].self, forKey: .annotations)
        state = try container.decode(State.self, forKey: .state)
        value = Double(try container.decode(String.self, forKey: .value)) ?? .nan
        activeAt = try container.decode(Date.self, forKey: .activeAt)
        firedAt = try container.decodeIfPresent(Date.self, forKey: .firedAt)
        resolvedAt = try container.decodeIfPresent(Date.self, forKey: .resolvedAt)
        lastSentAt = try container.decodeIfPresent(Date.self, forKey: .lastSentAt)
        validUntil = try container.decodeIfPresent(Date.self, forKey: .validUntil)
        keepFiringSince = try container.decodeIfPresent(Date.self, forKey: .keepFiringSince)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(labels, forKey: .labels)
        try container.encode(annotations, forKey: .annotations)
        try container.encode(state, forKey: .state)
        try container.encode(String(value), forKey: .value)
        try container.encode(activeAt, forKey: .activeAt)
        try container.encodeIfPresent(firedAt, forKey: .firedAt)
        try container.encodeIfPresent(resolvedAt, forKey: .resolvedAt)
        try container.encodeIfPresent(lastSentAt, forKey: .lastSentAt)
        try container.encodeIfPresent(validUntil, forKey: .validUntil)
        try container.encodeIfPresent(keepFiringSince, forKey: .keepFiringSince)
    }

    public init(labels: [String: String], annotations: [String: String], state: State, value: Double, activeAt: Date) {
        self.labels = labels
        self.annotations = annotations
        self.state = state
        self.value = value
        self.activeAt = activeAt
    }
}
