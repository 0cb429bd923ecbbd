import AlertRouting

/// The routing configuration is read from a file an operator edits (and reloaded on SIGHUP): any text
/// is a configuration or a one-line error, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRouting(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let yaml = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? RoutingConfig.parse(yaml: yaml, environment: ["SLACK_URL": "https://hooks.slack.com/services/T/B/x"])
    return 0
}
