/// How one upstream attempt ended, for `llm_upstream_attempts_total{outcome}`.
enum UpstreamAttemptOutcome: String, Hashable, Sendable, CaseIterable {
    /// A response head came (any status: the status is in `llm_upstream_responses_total`).
    case response
    case connectFailed = "connect_failed"
    /// No head within the first-byte timeout, a read timeout, or the total deadline.
    case timeout
    case tlsFailed = "tls_failed"
    case badResponse = "bad_response"
    /// The connection closed before the answer's head.
    case closed

    init(_ error: UpstreamCallError) {
        switch error {
        case .connectFailed: self = .connectFailed
        case .connectTimeout, .readTimeout, .deadlineExceeded: self = .timeout
        case .tlsFailed: self = .tlsFailed
        case .badResponse: self = .badResponse
        case .remoteClosed, .cancelled: self = .closed
        }
    }
}
