import Foundation
import SplitPlaneProtocol

public enum EnrollmentTokenUse: Sendable, Equatable {
    case valid
    case otherEnvironment
    case unknown
    case expired
    case alreadyUsed
}
