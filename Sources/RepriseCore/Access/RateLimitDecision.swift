/// What the limiter decided for one request, with what the `x-ratelimit-*` headers tell.
public enum RateLimitDecision: Sendable, Equatable {
    case allowed(RateLimitStatus)
    case denied(kind: RateLimitKind, retryAfterMicroseconds: Int64, status: RateLimitStatus)

    public var isAllowed: Bool { if case .allowed = self { true } else { false } }
}

/// The state of an identity's request and token limits after a decision (OpenAI's
/// `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`): the per-minute request limit when
/// set, else the per-second one.
public struct RateLimitStatus: Sendable, Equatable {
    public struct Window: Sendable, Equatable {
        public var limit: Int
        public var remaining: Int
        public var resetMicroseconds: Int64

        public init(limit: Int, remaining: Int, resetMicroseconds: Int64) {
            self.limit = limit
            self.remaining = remaining
            self.resetMicroseconds = resetMicroseconds
        }
    }

    public var requests: Window?
    public var tokens: Window?

    public init(requests: Window? = nil, tokens: Window? = nil) {
        self.requests = requests
        self.tokens = tokens
    }

    mutating func note(_ kind: RateLimitKind, gcra: GCRA, result: GCRA.Result) {
        let window = Window(limit: gcra.limit, remaining: result.remaining, resetMicroseconds: result.resetMicroseconds)
        switch kind {
        case .requestsPerMinute: requests = window
        case .requestsPerSecond where requests == nil: requests = window
        case .tokensPerMinute: tokens = window
        default: break
        }
    }

    /// Several limits decided one by one (each `GCRA.evaluate` result, in `RateLimitKind`
    /// order): allowed when all are, else denied by the one that frees last.
    public static func combine(_ results: [(kind: RateLimitKind, gcra: GCRA, result: GCRA.Result)]) -> RateLimitDecision {
        var status = RateLimitStatus()
        var denial: (kind: RateLimitKind, retry: Int64)?
        for item in results {
            status.note(item.kind, gcra: item.gcra, result: item.result)
            if !item.result.allowed, item.result.retryAfterMicroseconds > (denial?.retry ?? -1) {
                denial = (item.kind, item.result.retryAfterMicroseconds)
            }
        }
        guard let denial else { return .allowed(status) }
        return .denied(kind: denial.kind, retryAfterMicroseconds: denial.retry, status: status)
    }
}
