import AlertTemplates
import Dispatch

/// Parses every input as an alert template and renders what parses, with a query function answering
/// a few samples: whatever the input, the result is a template, an error, or an output — never a
/// crash, a hang or unbounded memory (`TemplateLimits`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplates(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let template = try? AlertTemplate(text, name: "summary") else { return 0 }
    let done = DispatchSemaphore(value: 0)
    Task {
        let samples = [QuerySample(labels: ["instance": "a", "job": "x"], value: 1.5), QuerySample(labels: [:], value: .nan)]
        _ = try? await template.render(
            TemplateData(
                labels: ["instance": "host:9090", "job": "backend"], value: 42,
                query: { _ in samples }))
        done.signal()
    }
    done.wait()
    return 0
}
