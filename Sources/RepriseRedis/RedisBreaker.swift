import NIOCore

/// The fail-open breaker in front of Redis, as a value: every event returns what to do, and
/// the caller (`RedisCacheStore`) does it. Time comes in with each event, so tests drive it
/// with a fake clock.
///
/// States and transitions:
/// - `closed(consecutiveFailures:)`: commands go to Redis. Can transition to `open` when
///   failures in a row reach `failureThreshold`.
/// - `open(nextProbeAt:)`: commands are skipped (answered without Redis). Can transition to
///   `probing` when a probe is due.
/// - `probing`: one `PING` is in flight, commands are still skipped. Can transition to
///   `closed` (probe answered) or back to `open` (probe failed, next one after `probeInterval`).
public struct RedisBreaker: Sendable, Hashable {
    public struct Configuration: Sendable, Hashable {
        /// Failures in a row (errors or timeouts) that open the breaker.
        public var failureThreshold: Int
        /// Time between probes while open.
        public var probeInterval: TimeAmount

        public init(failureThreshold: Int = 5, probeInterval: TimeAmount = .milliseconds(500)) {
            self.failureThreshold = max(1, failureThreshold)
            self.probeInterval = probeInterval
        }
    }

    public enum State: Sendable, Hashable {
        case closed(consecutiveFailures: Int)
        case open(nextProbeAt: NIODeadline)
        case probing
    }

    public enum Decision: Sendable, Hashable {
        case send
        case skip
    }

    public enum Action: Sendable, Hashable {
        case none
        /// The breaker just opened: log it, and schedule a probe at `probeAt`.
        case opened(afterFailures: Int, probeAt: NIODeadline)
        /// Send a probe now.
        case sendProbe
        /// A probe failed: schedule the next one.
        case scheduleProbe(at: NIODeadline)
        /// Redis answered a probe: the breaker closed, log the recovery.
        case recovered
    }

    public let configuration: Configuration
    public private(set) var state: State = .closed(consecutiveFailures: 0)

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Should a command go to Redis now?
    public func decide() -> Decision {
        if case .closed = state { return .send }
        return .skip
    }

    /// A command sent while closed got its answer (a miss counts as success).
    public mutating func commandSucceeded() -> Action {
        if case .closed = state { state = .closed(consecutiveFailures: 0) }
        // While open or probing, late answers of commands sent before opening change nothing:
        // only the probe decides the way back.
        return .none
    }

    /// A command sent while closed failed or timed out.
    public mutating func commandFailed(now: NIODeadline) -> Action {
        guard case .closed(let failures) = state else { return .none }
        let count = failures + 1
        guard count >= configuration.failureThreshold else {
            state = .closed(consecutiveFailures: count)
            return .none
        }
        let probeAt = now + configuration.probeInterval
        state = .open(nextProbeAt: probeAt)
        return .opened(afterFailures: count, probeAt: probeAt)
    }

    /// A scheduled probe timer fired.
    public mutating func probeTimerFired(now: NIODeadline) -> Action {
        guard case .open(let nextProbeAt) = state else { return .none }
        guard now >= nextProbeAt else { return .scheduleProbe(at: nextProbeAt) }
        state = .probing
        return .sendProbe
    }

    public mutating func probeSucceeded() -> Action {
        guard case .probing = state else { return .none }
        state = .closed(consecutiveFailures: 0)
        return .recovered
    }

    public mutating func probeFailed(now: NIODeadline) -> Action {
        guard case .probing = state else { return .none }
        let probeAt = now + configuration.probeInterval
        state = .open(nextProbeAt: probeAt)
        return .scheduleProbe(at: probeAt)
    }
}
