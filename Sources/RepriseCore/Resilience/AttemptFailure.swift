/// Why one upstream attempt did not produce a response worth delivering as is.
///
/// The proxy classifies what it saw into one of these; `RetryStateMachine` decides whether to
/// retry, and `CircuitBreakerOutcome(_:)` whether it counts against the upstream's health.
public enum AttemptFailure: Sendable, Hashable {
    /// TCP connect, DNS or TLS handshake failed, or the connect timeout fired: nothing reached
    /// the upstream application, so a retry is always safe.
    case connectError
    /// The request was sent but no response head arrived within the time-to-first-byte timeout.
    case timeoutBeforeFirstByte
    /// A response head arrived with this status. `retryAfter` is the raw `Retry-After` header,
    /// if any. Non-retryable statuses (2xx, 4xx other than 429, 501, …) make the machine answer
    /// `.deliver`: the proxy forwards that response as it is.
    case status(Int, retryAfter: String?)
    /// Anything else (a malformed response, the stream cut after the head, a local error).
    /// Never retried: the upstream may have done the work.
    case otherError

    /// Statuses that say "this attempt failed, another one may work".
    public static let retryableStatuses: Set<Int> = [429, 500, 502, 503, 504]

    /// Whether a fresh attempt may succeed where this one failed (`RetryPolicy` can narrow the
    /// status list, not widen the transport cases).
    public var isRetryableKind: Bool {
        switch self {
        case .connectError, .timeoutBeforeFirstByte: return true
        case .status(let status, _): return Self.retryableStatuses.contains(status)
        case .otherError: return false
        }
    }
}
