import SplitPlaneTLS

/// The URI SAN of a client certificate, parsed as the gateway parses it: a refusal or an identity that
/// prints back to the very same URI (nothing normalised).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSPIFFE(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let uri = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let identity = try? SPIFFEIdentity.parse(uri), identity.uri != uri {
        fatalError("\(uri) parsed as \(identity.uri)")
    }
    return 0
}
