import Foundation

/// Decides, for one client request, whether each failed upstream attempt is retried, when, or
/// given up, and when the response is committed to the client.
///
/// Decisions as values: the proxy feeds events and runs the returned action (start an attempt,
/// arm a timer, forward a response, answer with an error). No I/O, no clock reads: `now` is the
/// uptime in nanoseconds (`NIODeadline.now().uptimeNanoseconds`); the wall clock (only for
/// `Retry-After` dates) and the jitter are injected.
///
/// Typical driving loop:
/// ```
/// var retry = RetryStateMachine(policy: policy, budget: budget, startedAt: now)
/// loop: switch retry.startAttempt(now: now)
///   case .start(let attempt, let deadline): send, with timeouts capped at `deadline`
///     on response head:   status retryable? -> retry.attemptFailed(.status(s, retryAfter: h), now:)
///                         otherwise        -> retry.responseStarted() (== .deliver), stream it
///     on connect error / first-byte timeout -> retry.attemptFailed(.connectError, now:)
///   case .giveUp(let reason, let lastFailure): answer the client
/// on .retry(let delay): arm a timer for `delay`, then go to `loop`
/// ```
/// `X-Reprise-Attempts` is `attempts` once the machine answered `.deliver` or `.giveUp`.
///
/// Not thread-safe: one machine per request, driven from that request's event loop.
public struct RetryStateMachine: Sendable {
    /// What the proxy does after an attempt's outcome is known.
    public enum Action: Sendable, Equatable {
        /// Forward the response of the current attempt to the client. From now on nothing is
        /// retried (bytes may reach the client at any moment).
        case deliver
        /// Wait this long, then call `startAttempt(now:)`.
        case retry(afterNanoseconds: UInt64)
        /// No further attempt. When `lastFailure` is `.status`, forward that upstream response
        /// as it is (with its `Retry-After`: the client is the one to wait); otherwise answer with
        /// an error: 504 for `.timeoutBeforeFirstByte` or `.deadlineExceeded`, 502 otherwise.
        /// With `.responseAlreadyStarted` the client already has a head: end what was sent
        /// (an SSE error event or a closed connection), and cache nothing.
        case giveUp(RetryGiveUpReason, lastFailure: AttemptFailure?)
    }

    /// What the proxy does when it is time for an attempt.
    public enum AttemptDecision: Sendable, Equatable {
        /// Send attempt number `attempt` (1-based); its connect and first-byte timeouts must not
        /// run past `deadline` (uptime nanoseconds).
        case start(attempt: Int, deadline: UInt64)
        case giveUp(RetryGiveUpReason, lastFailure: AttemptFailure?)
    }

    /// Where the request stands.
    ///
    /// - `ready`: no attempt in flight; the next step is `startAttempt`.
    ///   Can transition to: `attempting` (start), `gaveUp` (deadline already past).
    /// - `attempting`: an attempt is in flight.
    ///   Can transition to: `ready` (retry scheduled), `delivering` (response started or not
    ///   retryable status), `gaveUp`.
    /// - `delivering`: the response is going to the client; terminal for retries (a later
    ///   failure of this attempt, such as a cut stream, is never retried).
    /// - `gaveUp`: terminal.
    public enum Phase: Sendable, Equatable {
        case ready
        case attempting
        case delivering
        case gaveUp(RetryGiveUpReason)
    }

    public let policy: RetryPolicy
    /// Uptime nanoseconds after which no attempt starts and no retry wait may end.
    public let deadline: UInt64
    /// Attempts started so far (the value of `X-Reprise-Attempts`).
    public private(set) var attempts = 0
    public private(set) var phase = Phase.ready
    /// The most recent failure, if any (for logs and the error answered to the client).
    public private(set) var lastFailure: AttemptFailure?

    private let budget: RetryBudget?
    private let jitter: JitterSource
    private let wallClockUnixMilliseconds: @Sendable () -> Int64

    /// - Parameters:
    ///   - budget: shared per upstream; the request is recorded with it here, and every retry
    ///     must be granted by it. nil means unlimited (tests, or budgets disabled).
    ///   - startedAt: uptime nanoseconds when the client request arrived.
    ///   - deadline: overrides `startedAt + policy.deadlineNanoseconds` (e.g. a tighter
    ///     deadline the client asked for).
    public init(
        policy: RetryPolicy,
        budget: RetryBudget?,
        startedAt: UInt64,
        deadline: UInt64? = nil,
        jitter: JitterSource = .system,
        wallClockUnixMilliseconds: @escaping @Sendable () -> Int64 = RetryStateMachine.systemWallClock
    ) {
        self.policy = policy
        self.budget = budget
        self.deadline = deadline ?? UptimeArithmetic.adding(policy.deadlineNanoseconds, to: startedAt)
        self.jitter = jitter
        self.wallClockUnixMilliseconds = wallClockUnixMilliseconds
        budget?.recordRequest(now: startedAt)
    }

    @Sendable public static func systemWallClock() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// Call before each attempt (the first, and each one after a `.retry` wait).
    public mutating func startAttempt(now: UInt64) -> AttemptDecision {
        switch phase {
        case .ready:
            guard now < deadline else {
                phase = .gaveUp(.deadlineExceeded)
                return .giveUp(.deadlineExceeded, lastFailure: lastFailure)
            }
            attempts += 1
            phase = .attempting
            return .start(attempt: attempts, deadline: deadline)
        case .gaveUp(let reason):
            return .giveUp(reason, lastFailure: lastFailure)
        case .attempting, .delivering:
            // A proxy bug (an attempt while one runs or after delivery): refuse rather than
            // send the request twice.
            assertionFailure("startAttempt in phase \(phase)")
            return .giveUp(.invalidSequence, lastFailure: lastFailure)
        }
    }

    /// The current attempt failed (or answered with a status: see `AttemptFailure.status`).
    public mutating func attemptFailed(_ failure: AttemptFailure, now: UInt64) -> Action {
        switch phase {
        case .delivering:
            lastFailure = failure
            phase = .gaveUp(.responseAlreadyStarted)
            return .giveUp(.responseAlreadyStarted, lastFailure: failure)
        case .gaveUp(let reason):
            return .giveUp(reason, lastFailure: lastFailure)
        case .ready:
            assertionFailure("attemptFailed with no attempt in flight")
            return giveUp(.invalidSequence, failure)
        case .attempting:
            break
        }

        if case .status(let status, _) = failure, !isRetryable(status: status) {
            // Not a failure worth retrying: an answer (200, 400, 401, 501, …) for the client.
            phase = .delivering
            return .deliver
        }
        lastFailure = failure
        guard failure.isRetryableKind else { return giveUp(.notRetryable, failure) }
        guard attempts < policy.maxAttempts else { return giveUp(.attemptsExhausted, failure) }

        var delay = jitter.delay(upTo: policy.backoffCeilingNanoseconds(beforeRetry: attempts))
        if case .status(_, let header?) = failure,
           let asked = RetryAfter.delayNanoseconds(parsing: header, nowUnixMilliseconds: wallClockUnixMilliseconds()) {
            guard asked <= policy.maxRetryAfterNanoseconds else { return giveUp(.retryAfterBeyondCap, failure) }
            // Never earlier than asked; the jittered backoff on top spreads the clients that were
            // all told the same date.
            delay = max(delay, asked)
        }
        guard UptimeArithmetic.adding(delay, to: now) < deadline else { return giveUp(.deadlineExceeded, failure) }
        if let budget, !budget.tryAcquireRetry(now: now) { return giveUp(.budgetExhausted, failure) }

        phase = .ready
        return .retry(afterNanoseconds: delay)
    }

    /// The response is being sent to the client (the head of a successful attempt, or a
    /// non-retryable answer). Always `.deliver`; afterwards nothing is retried.
    @discardableResult
    public mutating func responseStarted() -> Action {
        phase = .delivering
        return .deliver
    }

    /// Whether a response with `status` would be retried by this policy (before the limits).
    public func isRetryable(status: Int) -> Bool {
        policy.retryableStatuses.contains(status) && AttemptFailure.retryableStatuses.contains(status)
    }

    private mutating func giveUp(_ reason: RetryGiveUpReason, _ failure: AttemptFailure) -> Action {
        lastFailure = failure
        phase = .gaveUp(reason)
        return .giveUp(reason, lastFailure: failure)
    }
}

/// Why a request stopped being retried (a bounded set: usable as a metric label).
public enum RetryGiveUpReason: String, Sendable, Hashable, CaseIterable {
    /// `max_attempts` attempts were made.
    case attemptsExhausted = "attempts_exhausted"
    /// The next attempt could not start, or its wait would not end, before the deadline.
    case deadlineExceeded = "deadline_exceeded"
    /// The upstream asked (`Retry-After`) for a longer wait than `max_retry_after`.
    case retryAfterBeyondCap = "retry_after_beyond_cap"
    /// The upstream's retry budget is spent: retries would multiply load on a failing upstream.
    case budgetExhausted = "budget_exhausted"
    /// The failure is of a kind that is never retried (`AttemptFailure.otherError`).
    case notRetryable = "not_retryable"
    /// Something already reached the client: retrying would duplicate or corrupt its response.
    case responseAlreadyStarted = "response_already_started"
    /// The proxy fed events out of order (a bug); no attempt is made.
    case invalidSequence = "invalid_sequence"
}
