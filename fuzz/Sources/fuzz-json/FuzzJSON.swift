import Foundation
import SplitPlaneProtocol

/// Every body either plane accepts goes through `JSONKeyCheck` and a closed decoder; a few of the
/// shapes that arrive from the other side are decoded here from arbitrary bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Data(bytes: data, count: size)
    _ = try? JSONKeyCheck.check(body)
    if let batch = try? StrictJSON.decodeClosed(AlertBatch.self, from: body) { _ = try? batch.validate() }
    if let report = try? StrictJSON.decodeClosed(StatusReport.self, from: body) { _ = try? report.validate() }
    if let spec = try? StrictJSON.decodeClosed(WorkspaceSpec.self, from: body) { _ = try? spec.validate() }
    _ = try? StrictJSON.decode(DesiredState.self, from: body)
    return 0
}
