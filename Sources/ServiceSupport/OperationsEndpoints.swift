import Hummingbird
import Logging
import Metrics
import Prometheus

/// The plain-HTTP operations listener every process has: `/metrics` (Prometheus text format),
/// `/healthz` (the process is alive) and `/readyz` (it can do its job).
public enum OperationsEndpoints {
    public static func application(
        host: String, port: Int, registry: PrometheusCollectorRegistry,
        readiness: Readiness, logger: Logger,
        onServerRunning: (@Sendable (Int) async -> Void)? = nil
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            if let problems = readiness.problems {
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: problems.joined(separator: "\n") + "\n")))
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onServerRunning?(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// Routes swift-metrics into `registry` for the whole process. Call once, from an executable.
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
