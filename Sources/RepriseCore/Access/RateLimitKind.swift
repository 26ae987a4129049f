/// The kinds of limit, in the order they are checked (and stored in Redis). The raw value is
/// the `reason` label of `llm_rate_limited_total`.
public enum RateLimitKind: String, Sendable, CaseIterable, Hashable {
    case requestsPerSecond = "requests"
    case requestsPerMinute = "requests_per_minute"
    case tokensPerMinute = "tokens"
    case concurrency

    /// `reason` of the metric: requests per second and per minute are both "requests".
    public var reason: String {
        switch self {
        case .requestsPerSecond, .requestsPerMinute: "requests"
        case .tokensPerMinute: "tokens"
        case .concurrency: "concurrency"
        }
    }

    /// The rate limits of `limits` (not concurrency), as GCRA limits.
    public static func rates(of limits: RateLimits) -> [(kind: RateLimitKind, gcra: GCRA)] {
        var rates: [(RateLimitKind, GCRA)] = []
        if limits.requestsPerSecond > 0 { rates.append((.requestsPerSecond, GCRA(limit: limits.requestsPerSecond, periodMicroseconds: 1_000_000))) }
        if limits.requestsPerMinute > 0 { rates.append((.requestsPerMinute, GCRA(limit: limits.requestsPerMinute, periodMicroseconds: 60_000_000))) }
        if limits.tokensPerMinute > 0 { rates.append((.tokensPerMinute, GCRA(limit: limits.tokensPerMinute, periodMicroseconds: 60_000_000))) }
        return rates
    }

    /// What one request costs of this kind.
    public func cost(tokens: Int) -> Int { self == .tokensPerMinute ? tokens : 1 }
}
