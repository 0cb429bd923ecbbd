import Hummingbird
import NIOCore
import SplitPlaneProtocol

/// `?watch=true`: newline-delimited `{"type":"ADDED|MODIFIED|DELETED","object":…}` events, chunked.
/// Without a `resourceVersion` (or with "0") the current objects come first as ADDED events; the
/// stream ends after `timeoutSeconds` (default 30 minutes) or when the server stops.
enum WatchStream {
    static func open(_ request: ObjectRequest, cluster: SharedCluster) throws -> Response {
        let (labels, fields) = try cluster.withLock { store throws(KubeStatusError) in try store.selectors(request.query) }
        let (stream, continuation) = AsyncStream<WatchEvent>.makeStream()
        let since = request.query["resourceVersion"] ?? ""
        let id = try cluster.withLock { store throws(KubeStatusError) in
            if since.isEmpty || since == "0" {
                for object in try store.matching(request) { continuation.yield(WatchEvent(type: "ADDED", object: object)) }
            }
            defer { store.nextWatcherID += 1 }
            store.watchers[store.nextWatcherID] = Watcher(
                resource: request.resource, namespace: request.namespace, labels: labels,
                fields: fields, continuation: continuation)
            return store.nextWatcherID
        }
        let timeout = Int(request.query["timeoutSeconds"] ?? "") ?? 1800
        let timer = Task {
            try? await Task.sleep(for: .seconds(timeout))
            continuation.finish()
        }
        continuation.onTermination = { _ in
            timer.cancel()
            cluster.withLock { _ = $0.watchers.removeValue(forKey: id) }
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                for await event in stream {
                    let line = KubeJSON.encode(["type": .string(event.type), "object": event.object]) + "\n"
                    try await writer.write(ByteBuffer(string: line))
                }
                try await writer.finish(nil)
            })
    }
}
