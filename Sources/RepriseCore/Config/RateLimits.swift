/// The limits of one client identity (`limits:` for everyone, `auth.keys[].limits` for one key).
/// 0 means no limit of that kind.
public struct RateLimits: Sendable, Equatable, Decodable {
    public var requestsPerSecond = 0
    public var requestsPerMinute = 0
    /// Output and prompt tokens together: estimated before the request (max_tokens plus the
    /// body's length / 4), corrected with the answer's `usage`.
    public var tokensPerMinute = 0
    /// Requests of the identity in progress at once.
    public var concurrentRequests = 0

    public init(requestsPerSecond: Int = 0, requestsPerMinute: Int = 0, tokensPerMinute: Int = 0, concurrentRequests: Int = 0) {
        self.requestsPerSecond = requestsPerSecond
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.concurrentRequests = concurrentRequests
    }

    public var isUnlimited: Bool { requestsPerSecond == 0 && requestsPerMinute == 0 && tokensPerMinute == 0 && concurrentRequests == 0 }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case requestsPerSecond = "requests_per_second"
        case requestsPerMinute = "requests_per_minute"
        case tokensPerMinute = "tokens_per_minute"
        case concurrentRequests = "concurrent_requests"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        requestsPerSecond = try container.decode(.requestsPerSecond, default: 0)
        requestsPerMinute = try container.decode(.requestsPerMinute, default: 0)
        tokensPerMinute = try container.decode(.tokensPerMinute, default: 0)
        concurrentRequests = try container.decode(.concurrentRequests, default: 0)
    }

    /// `keyPath` is where these limits are (`limits`, `auth.keys[1].limits`).
    func validate(keyPath: String) -> [ConfigError] {
        [(CodingKeys.requestsPerSecond, requestsPerSecond), (.requestsPerMinute, requestsPerMinute),
         (.tokensPerMinute, tokensPerMinute), (.concurrentRequests, concurrentRequests)]
            .filter { !(0...1_000_000_000).contains($0.1) }
            .map { ConfigError(keyPath: "\(keyPath).\($0.0.stringValue)", "must be between 0 (no limit) and 1000000000, got \($0.1)") }
    }
}
