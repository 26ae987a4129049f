/// The public face of a breaker's state (logs, metrics, admin endpoints).
public enum CircuitState: String, Sendable, Hashable, CaseIterable {
    /// Calls flow; outcomes are counted over the sliding window.
    /// Can transition to:
    ///   - `open` when the window holds at least `minimumRequests` outcomes and the failure
    ///     fraction reaches `failureRateThreshold`, or after `consecutiveFailures` failures in a row.
    case closed
    /// Every call is rejected (fail fast or fallback) until the open duration has passed.
    /// Can transition to:
    ///   - `halfOpen` at the first `admit` once `openDuration` has passed (no timer: lazily).
    case open
    /// Up to `halfOpenMaxProbes` calls at once go through as probes; the rest are rejected.
    /// Can transition to:
    ///   - `closed` after `halfOpenSuccessesToClose` probe successes (the window starts empty);
    ///   - `open` on any probe failure, for a full `openDuration`;
    ///   - `halfOpen` (a new generation with fresh slots) when every slot was held past
    ///     `probeTimeout` by probes whose outcome was never recorded.
    case halfOpen = "half_open"

    /// Gauge value for `llm_circuit_breaker_state`: 0 closed, 1 half-open, 2 open.
    public var gaugeValue: Int {
        switch self {
        case .closed: return 0
        case .halfOpen: return 1
        case .open: return 2
        }
    }
}

/// One state change, for the caller to log and count.
public struct CircuitTransition: Sendable, Hashable, CustomStringConvertible {
    public enum Cause: Sendable, Hashable {
        /// `failures` of `outcomes` in the window were failures.
        case failureRate(failures: Int, outcomes: Int)
        case consecutiveFailures(Int)
        case openDurationElapsed
        case probeFailed
        case probesSucceeded(Int)
        /// A half-open circuit's probes were never recorded within the probe timeout.
        case probesLost
    }

    public var from: CircuitState
    public var to: CircuitState
    public var cause: Cause
    /// Uptime nanoseconds of the event that caused it.
    public var at: UInt64
    /// Increases by one per transition of this breaker: orders log lines written from several
    /// threads.
    public var generation: UInt64

    public var description: String {
        let why: String
        switch cause {
        case .failureRate(let failures, let outcomes): why = "\(failures) of \(outcomes) calls failed in the window"
        case .consecutiveFailures(let count): why = "\(count) consecutive failures"
        case .openDurationElapsed: why = "open duration elapsed"
        case .probeFailed: why = "a probe failed"
        case .probesSucceeded(let count): why = "\(count) probes succeeded"
        case .probesLost: why = "probes were not recorded within the probe timeout"
        }
        return "circuit \(from.rawValue) -> \(to.rawValue): \(why)"
    }
}
