import Foundation
import SplitPlaneProtocol

/// Which aggregation group an alert joins on one route: Alertmanager's group key, made stable and short.
public struct GroupAssignment: Sendable, Equatable {
    public var groupID: String
    public var route: String
    public var receiver: String
    public var groupLabels: [String: String]
    public var groupWait: Duration

    public init(groupID: String, route: String, receiver: String, groupLabels: [String: String], groupWait: Duration) {
        self.groupID = groupID
        self.route = route
        self.receiver = receiver
        self.groupLabels = groupLabels
        self.groupWait = groupWait
    }
}
