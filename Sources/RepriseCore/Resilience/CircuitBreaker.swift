import Synchronization

/// One upstream's circuit breaker, shared by every event loop (see `CircuitBreakerStateMachine`
/// for the states and rules, `CircuitBreakerOutcome` for what counts as a failure).
///
/// Decides under the lock, reports after it: `onTransition` runs outside the `Mutex`, on the
/// thread whose call caused the change, so it may log or update metrics freely. Transitions from
/// different threads may be reported out of order; `CircuitTransition.generation` orders them.
///
/// ```
/// switch breaker.admit(now: now) {
/// case .allowed(let ticket), .allowedAsProbe(let ticket):
///     … call upstream; at the response head or failure:
///     breaker.record(ticket, outcome: CircuitBreakerOutcome(status: head.status), now: now)
/// case .rejected(let retryAfter):
///     fallback upstream, or 503 with `Retry-After: RetryAfter.headerValue(nanoseconds: retryAfter)`
/// }
/// ```
public final class CircuitBreaker: Sendable {
    public typealias Ticket = CircuitBreakerStateMachine.Ticket
    public typealias Admission = CircuitBreakerStateMachine.Admission

    /// A copy of the counters, for metrics and admin endpoints.
    public struct Snapshot: Sendable, Hashable {
        public var state: CircuitState
        public var generation: UInt64
        public var consecutiveFailures: Int
        public var windowSuccesses: Int
        public var windowFailures: Int
    }

    /// Names the upstream in transitions (e.g. the upstream's configured name).
    public let name: String
    public let policy: CircuitBreakerPolicy
    private let machine: Mutex<CircuitBreakerStateMachine>
    private let onTransition: @Sendable (String, CircuitTransition) -> Void

    /// - Parameter onTransition: called with `name` and each state change, outside the lock.
    public init(
        name: String,
        policy: CircuitBreakerPolicy = CircuitBreakerPolicy(),
        onTransition: @escaping @Sendable (_ name: String, _ transition: CircuitTransition) -> Void = { _, _ in }
    ) {
        self.name = name
        self.policy = policy
        self.machine = Mutex(CircuitBreakerStateMachine(policy: policy))
        self.onTransition = onTransition
    }

    /// Whether a call may go to the upstream now.
    public func admit(now: UInt64) -> Admission {
        let (admission, transition) = machine.withLock { $0.admit(now: now) }
        if let transition { onTransition(name, transition) }
        return admission
    }

    /// Records the outcome of an admitted call, once per ticket; returns the transition it
    /// caused, if any (also passed to `onTransition`).
    @discardableResult
    public func record(_ ticket: Ticket, outcome: CircuitBreakerOutcome, now: UInt64) -> CircuitTransition? {
        let transition = machine.withLock { $0.record(ticket, outcome: outcome, now: now) }
        if let transition { onTransition(name, transition) }
        return transition
    }

    /// The current state. An open circuit whose duration has elapsed still reads `open` until
    /// the next `admit` moves it to half-open.
    public var state: CircuitState {
        machine.withLock { $0.circuitState }
    }

    public func snapshot(now: UInt64) -> Snapshot {
        machine.withLock { machine in
            let counts = machine.windowCounts(now: now)
            return Snapshot(
                state: machine.circuitState, generation: machine.generation,
                consecutiveFailures: machine.consecutiveFailures,
                windowSuccesses: counts.successes, windowFailures: counts.failures
            )
        }
    }
}
