import Logging
import RepriseCore

/// Re-reads the configuration file when it changes (polled every `routing.watch_interval`) and
/// on SIGHUP, and applies its `routing:` section to new requests; requests in flight keep the
/// routing they started with, and no connection is touched.
///
/// An invalid file (YAML, a key, a value, an upstream the process did not start with) is
/// rejected as a whole: logged with every problem, counted as a failed reload, and the current
/// routing stays. Every other section is read at start only (a restart applies it).
struct ConfigReloader: Sendable {
    let path: String
    let routing: RoutingRuntime
    let metrics: ProxyMetrics?
    let logger: Logger

    func reload(trigger: String) {
        do {
            let config = try ConfigLoader.load(file: path)
            try routing.reload(config.routing)
            metrics?.configReloaded(success: true)
            logger.notice("configuration reloaded: routing applies to new requests (other sections need a restart)", metadata: [
                "trigger": "\(trigger)", "file": "\(path)", "routes": "\(config.routing.routes.map(\.name).joined(separator: ","))",
            ])
        } catch {
            metrics?.configReloaded(success: false)
            logger.error("configuration reload rejected; keeping the current routing", metadata: [
                "trigger": "\(trigger)", "file": "\(path)", "error": "\(error)",
            ])
        }
    }

    /// Polls the file until cancelled; a change is reloaded once the file reads again.
    func watch() async {
        var seen = ConfigFileIdentity(path: path)
        while !Task.isCancelled {
            let interval = routing.config.watchInterval.nanoseconds
            // 0 turns watching off; a reload may turn it on again, so keep looking now and then.
            try? await Task.sleep(for: .nanoseconds(interval > 0 ? interval : 5_000_000_000))
            guard interval > 0, let current = ConfigFileIdentity(path: path), current != seen else { continue }
            seen = current
            reload(trigger: "file changed")
        }
    }
}
