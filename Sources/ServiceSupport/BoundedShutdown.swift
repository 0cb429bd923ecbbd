import Logging
import ServiceLifecycle
import UnixSignals

extension ServiceGroupConfiguration {
    /// A group whose graceful shutdown, if some service does not finish within `limit`, is escalated
    /// to task cancellation instead of waiting for ever. Kubernetes kills a pod 30 s after SIGTERM
    /// by default; the binaries stop on their own before that.
    public static func bounded(_ services: [any Service], signals: [UnixSignal] = [], limit: Duration, logger: Logger) -> ServiceGroupConfiguration {
        var configuration = ServiceGroupConfiguration(services: services.map { .init(service: $0) }, gracefulShutdownSignals: signals, logger: logger)
        configuration.maximumGracefulShutdownDuration = limit
        return configuration
    }
}
