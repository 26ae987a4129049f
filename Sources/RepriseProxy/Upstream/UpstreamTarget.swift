import Logging
import RepriseCore

/// One upstream with the state shared by every request to it: its connection pool, its circuit
/// breaker and its retry budget.
final class UpstreamTarget: Sendable {
    let name: String
    /// The `upstream` label of its metrics: `default` for the primary, `fallback`.
    let metricLabel: String
    let client: UpstreamClient
    let breaker: CircuitBreaker?
    let budget: RetryBudget

    init(name: String, metricLabel: String, client: UpstreamClient, config: UpstreamConfig, logger: Logger) {
        self.name = name
        self.metricLabel = metricLabel
        self.client = client
        self.budget = RetryBudget(policy: config.retry.budgetPolicy)
        if config.circuitBreaker.enabled {
            self.breaker = CircuitBreaker(name: name, policy: config.circuitBreaker.policy) { name, transition in
                logger.warning("circuit breaker changed state", metadata: ["upstream": "\(name)", "transition": "\(transition)"])
            }
        } else {
            self.breaker = nil
        }
    }
}

/// The upstreams a request may use: the primary, and the fallback used while the primary's
/// circuit is open.
struct UpstreamTargets: Sendable {
    let primary: UpstreamTarget
    let fallback: UpstreamTarget?
    let retryPolicy: RetryPolicy
    let firstByteTimeoutNanoseconds: Int64

    func shutdown() async {
        try? await primary.client.shutdown()
        try? await fallback?.client.shutdown()
    }
}
