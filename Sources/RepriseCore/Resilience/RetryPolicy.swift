/// How one client request is retried against the upstream (`upstream.retry.*`).
///
/// All durations are nanoseconds of the monotonic uptime clock (the same unit as
/// `NIODeadline.uptimeNanoseconds`), except that `Retry-After` dates are read against the wall
/// clock.
///
/// Config keys (suggested; types and defaults):
/// - `upstream.retry.max_attempts` (int, 3): attempts in total, the first one included; 1 disables retries.
/// - `upstream.retry.base_delay` (duration, 200ms): the backoff ceiling before the first retry.
/// - `upstream.retry.max_delay` (duration, 5s): the backoff ceiling never grows beyond this.
/// - `upstream.retry.max_retry_after` (duration, 30s): the longest `Retry-After` honoured; an
///   upstream asking for longer is not retried (its response goes to the client as it is).
/// - `upstream.retry.deadline` (duration, 60s): from the request's start, no retry is scheduled
///   whose wait would end at or past this point.
/// - `upstream.retry.statuses` (list of int, [429, 500, 502, 503, 504]): statuses retried; a
///   subset of those (others are ignored).
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in total including the first (1 means never retry).
    public var maxAttempts: Int
    /// Full-jitter backoff: the wait before retry `n` (1-based) is uniform in
    /// `0...min(maxDelay, baseDelay × 2^(n-1))`.
    public var baseDelayNanoseconds: UInt64
    public var maxDelayNanoseconds: UInt64
    /// A `Retry-After` longer than this is not waited for: the machine gives up at once rather
    /// than retry earlier than the upstream asked (which would only earn another refusal) or hold
    /// the client for longer than the operator allowed.
    public var maxRetryAfterNanoseconds: UInt64
    /// The request's overall time budget, measured from `RetryStateMachine`'s `startedAt`.
    public var deadlineNanoseconds: UInt64
    /// Statuses that are retried (intersected with `AttemptFailure.retryableStatuses`).
    public var retryableStatuses: Set<Int>

    public init(
        maxAttempts: Int = 3,
        baseDelayNanoseconds: UInt64 = 200_000_000,
        maxDelayNanoseconds: UInt64 = 5_000_000_000,
        maxRetryAfterNanoseconds: UInt64 = 30_000_000_000,
        deadlineNanoseconds: UInt64 = 60_000_000_000,
        retryableStatuses: Set<Int> = AttemptFailure.retryableStatuses
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelayNanoseconds = baseDelayNanoseconds
        self.maxDelayNanoseconds = maxDelayNanoseconds
        self.maxRetryAfterNanoseconds = maxRetryAfterNanoseconds
        self.deadlineNanoseconds = deadlineNanoseconds
        self.retryableStatuses = retryableStatuses
    }

    /// Values that are well-typed but unusable, each as `(key, message)` with the suggested key
    /// name under `upstream.retry`; empty when the policy is usable.
    public func problems() -> [(key: String, message: String)] {
        var problems: [(key: String, message: String)] = []
        if !(1...10).contains(maxAttempts) {
            problems.append(("max_attempts", "must be between 1 and 10, got \(maxAttempts)"))
        }
        if baseDelayNanoseconds == 0 { problems.append(("base_delay", "must be greater than 0")) }
        if maxDelayNanoseconds < baseDelayNanoseconds {
            problems.append(("max_delay", "must be at least base_delay"))
        }
        if deadlineNanoseconds == 0 { problems.append(("deadline", "must be greater than 0")) }
        let unknown = retryableStatuses.subtracting(AttemptFailure.retryableStatuses)
        if !unknown.isEmpty {
            problems.append(("statuses", "only 429, 500, 502, 503 and 504 can be retried, got \(unknown.sorted())"))
        }
        return problems
    }

    /// The backoff ceiling before retry number `retry` (1-based): `min(max, base × 2^(retry-1))`,
    /// computed without overflow.
    public func backoffCeilingNanoseconds(beforeRetry retry: Int) -> UInt64 {
        let doublings = max(0, retry - 1)
        guard doublings < 64, baseDelayNanoseconds <= (maxDelayNanoseconds >> UInt64(doublings)) else {
            return maxDelayNanoseconds
        }
        return min(maxDelayNanoseconds, baseDelayNanoseconds << UInt64(doublings))
    }
}
