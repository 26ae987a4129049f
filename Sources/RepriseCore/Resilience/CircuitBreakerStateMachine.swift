/// The decisions of one upstream's circuit breaker, as a plain value (no lock, no clock).
///
/// `CircuitBreaker` wraps it in a `Mutex` for sharing between event loops; tests drive it
/// directly as a trace. Every call takes `now`, uptime nanoseconds.
public struct CircuitBreakerStateMachine: Sendable {
    /// Proof of admission, handed back to `record` exactly once.
    ///
    /// Carries the breaker generation it was issued in: an outcome from an earlier generation
    /// (a call admitted before the circuit opened, finishing after) is not counted, so it
    /// cannot close a circuit it never probed or reopen one that recovered without it.
    public struct Ticket: Sendable, Hashable {
        public let generation: UInt64
        public let isProbe: Bool
    }

    public enum Admission: Sendable, Hashable {
        /// Closed: call the upstream, then `record` the outcome.
        case allowed(Ticket)
        /// Half-open: this call is one of the few probes; `record` its outcome promptly.
        case allowedAsProbe(Ticket)
        /// Fail fast (503 with `Retry-After`, or use the fallback upstream); the circuit may let
        /// calls through again after `retryAfterNanoseconds`.
        case rejected(retryAfterNanoseconds: UInt64)
    }

    /// - `closed`: calls flow; outcomes are counted in the sliding window.
    ///   Can transition to: `open` when the failure rate over the window reaches the threshold
    ///   with at least `minimumRequests` outcomes, or after `consecutiveFailures` failures in a row.
    /// - `open(until:)`: every call is rejected until `until`.
    ///   Can transition to: `halfOpen` at the first `admit` at or after `until` (lazily: no timer).
    /// - `halfOpen`: up to `halfOpenMaxProbes` probes in flight, the rest rejected.
    ///   Can transition to: `closed` after `halfOpenSuccessesToClose` probe successes; `open` on
    ///   any probe failure; `halfOpen` again (a new generation, fresh probes) when every slot
    ///   was held longer than `probeTimeout` by probes that were never recorded.
    enum State: Sendable {
        case closed
        case open(until: UInt64)
        case halfOpen(probesInFlight: Int, successes: Int, lastProbeAdmittedAt: UInt64)
    }

    struct Counts: Sendable, Hashable, AdditiveArithmetic {
        var successes = 0
        var failures = 0

        static let zero = Counts()
        static func + (lhs: Counts, rhs: Counts) -> Counts {
            Counts(successes: lhs.successes + rhs.successes, failures: lhs.failures + rhs.failures)
        }
        static func - (lhs: Counts, rhs: Counts) -> Counts {
            Counts(successes: lhs.successes - rhs.successes, failures: lhs.failures - rhs.failures)
        }
    }

    public let policy: CircuitBreakerPolicy
    private(set) var state = State.closed
    /// Bumped on every transition.
    public private(set) var generation: UInt64 = 0
    public private(set) var consecutiveFailures = 0
    private var window: SlidingWindow<Counts>

    public init(policy: CircuitBreakerPolicy = CircuitBreakerPolicy()) {
        self.policy = policy
        self.window = SlidingWindow(windowNanoseconds: policy.windowNanoseconds, bucketCount: policy.bucketCount)
    }

    public var circuitState: CircuitState {
        switch state {
        case .closed: return .closed
        case .open: return .open
        case .halfOpen: return .halfOpen
        }
    }

    /// Whether a call may go to the upstream now, and the transition this caused, if any.
    public mutating func admit(now: UInt64) -> (Admission, CircuitTransition?) {
        switch state {
        case .closed:
            return (.allowed(Ticket(generation: generation, isProbe: false)), nil)

        case .open(let until):
            guard now >= until else { return (.rejected(retryAfterNanoseconds: until - now), nil) }
            let transition = transition(to: .halfOpen(probesInFlight: 1, successes: 0, lastProbeAdmittedAt: now),
                                        cause: .openDurationElapsed, now: now)
            return (.allowedAsProbe(Ticket(generation: generation, isProbe: true)), transition)

        case .halfOpen(let inFlight, let successes, let lastAdmitted):
            if inFlight < policy.halfOpenMaxProbes {
                state = .halfOpen(probesInFlight: inFlight + 1, successes: successes, lastProbeAdmittedAt: now)
                return (.allowedAsProbe(Ticket(generation: generation, isProbe: true)), nil)
            }
            if now >= UptimeArithmetic.adding(policy.probeTimeoutNanoseconds, to: lastAdmitted) {
                let transition = transition(to: .halfOpen(probesInFlight: 1, successes: 0, lastProbeAdmittedAt: now),
                                            cause: .probesLost, now: now)
                return (.allowedAsProbe(Ticket(generation: generation, isProbe: true)), transition)
            }
            return (.rejected(retryAfterNanoseconds: policy.halfOpenRejectRetryAfterNanoseconds), nil)
        }
    }

    /// Records the outcome of an admitted call; returns the transition it caused, if any.
    public mutating func record(_ ticket: Ticket, outcome: CircuitBreakerOutcome, now: UInt64) -> CircuitTransition? {
        guard ticket.generation == generation else { return nil }
        switch state {
        case .closed:
            switch outcome {
            case .ignored:
                return nil
            case .success:
                consecutiveFailures = 0
                window.add(Counts(successes: 1), now: now)
                return nil
            case .failure:
                consecutiveFailures += 1
                window.add(Counts(failures: 1), now: now)
                if policy.consecutiveFailures > 0, consecutiveFailures >= policy.consecutiveFailures {
                    return open(cause: .consecutiveFailures(consecutiveFailures), now: now)
                }
                let seen = window.total(now: now)
                let outcomes = seen.successes + seen.failures
                if outcomes >= policy.minimumRequests,
                   Double(seen.failures) >= policy.failureRateThreshold * Double(outcomes) {
                    return open(cause: .failureRate(failures: seen.failures, outcomes: outcomes), now: now)
                }
                return nil
            }

        case .open:
            // Tickets of this generation are never issued while open.
            return nil

        case .halfOpen(let inFlight, let successes, let lastAdmitted):
            guard ticket.isProbe else { return nil }
            switch outcome {
            case .ignored:
                state = .halfOpen(probesInFlight: max(0, inFlight - 1), successes: successes, lastProbeAdmittedAt: lastAdmitted)
                return nil
            case .failure:
                return open(cause: .probeFailed, now: now)
            case .success:
                if successes + 1 >= policy.halfOpenSuccessesToClose {
                    window.reset()
                    consecutiveFailures = 0
                    return transition(to: .closed, cause: .probesSucceeded(successes + 1), now: now)
                }
                state = .halfOpen(probesInFlight: max(0, inFlight - 1), successes: successes + 1, lastProbeAdmittedAt: lastAdmitted)
                return nil
            }
        }
    }

    /// Outcomes in the current window (closed state; reset when the circuit closes again).
    mutating func windowCounts(now: UInt64) -> Counts {
        window.total(now: now)
    }

    private mutating func open(cause: CircuitTransition.Cause, now: UInt64) -> CircuitTransition {
        let until = UptimeArithmetic.adding(policy.openDurationNanoseconds, to: now)
        return transition(to: .open(until: until), cause: cause, now: now)
    }

    private mutating func transition(to next: State, cause: CircuitTransition.Cause, now: UInt64) -> CircuitTransition {
        let from = circuitState
        state = next
        generation += 1
        return CircuitTransition(from: from, to: circuitState, cause: cause, at: now, generation: generation)
    }
}
