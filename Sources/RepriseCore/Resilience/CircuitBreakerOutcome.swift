/// What one admitted call tells the breaker about the upstream's health.
///
/// Record it as soon as it is known: at the response head (or the connect/first-byte failure),
/// not at the end of a stream, so probes resolve quickly.
///
/// What counts:
/// - failure: connect errors, timeouts before the first byte, 500, 502, 503, 504, and
///   `otherError` (a malformed answer or a broken connection is the upstream's fault);
/// - ignored: 429 (the upstream is alive and only rate limiting: opening the circuit would turn
///   a throttle into an outage; retries and `Retry-After` handle it), and calls that ended for
///   local reasons (client disconnected, request cancelled): they say nothing either way;
/// - success: any other status (2xx, and 4xx: the upstream answered, the request was wrong).
public enum CircuitBreakerOutcome: String, Sendable, Hashable, CaseIterable {
    case success
    case failure
    /// Neither: frees a probe slot without counting.
    case ignored

    /// The outcome of a response head with `status`.
    public init(status: Int) {
        switch status {
        case 429: self = .ignored
        case 500, 502, 503, 504: self = .failure
        default: self = .success
        }
    }

    /// The outcome of a failed attempt as the retry machine sees it.
    public init(_ failure: AttemptFailure) {
        switch failure {
        case .connectError, .timeoutBeforeFirstByte, .otherError: self = .failure
        case .status(let status, _): self = CircuitBreakerOutcome(status: status)
        }
    }
}
