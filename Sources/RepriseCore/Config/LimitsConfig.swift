/// `limits:` — rate and concurrency limits per client identity.
public struct LimitsConfig: Sendable, Decodable {
    /// Whose limits: `auto` (the key's name in `auth.mode: keys`, the credential's hash in
    /// passthrough) or `header:NAME`.
    public var identity = LimitIdentity.auto
    /// Limits of every identity; a key's own `limits` replace them where set.
    public var defaults = RateLimits()
    /// `local` (each process counts alone) or `redis` (one count for the fleet, in the Redis
    /// of `cache.redis.url`; Redis trouble falls back to the local count).
    public var backend = LimitsBackend.local
    /// Cache hits are served without counting (and even when the identity is over its limit).
    public var exemptCacheHits = true
    /// Longest wait for Redis's decision before the local limiter decides instead.
    public var redisTimeout = ConfigDuration.milliseconds(50)

    public init() {}

    public enum LimitsBackend: String, Sendable, CaseIterable { case local, redis }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case identity, backend
        case requestsPerSecond = "requests_per_second"
        case requestsPerMinute = "requests_per_minute"
        case tokensPerMinute = "tokens_per_minute"
        case concurrentRequests = "concurrent_requests"
        case exemptCacheHits = "exempt_cache_hits"
        case redisTimeout = "redis_timeout"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try container.decodeIfPresent(String.self, forKey: .identity) {
            guard let identity = LimitIdentity(parsing: text) else {
                throw ConfigError(keyPath: configKeyPath(decoder.codingPath + [CodingKeys.identity]), "'\(text)' is not 'auto' or 'header:NAME'")
            }
            self.identity = identity
        }
        if let text = try container.decodeIfPresent(String.self, forKey: .backend) {
            guard let backend = LimitsBackend(rawValue: text) else {
                throw ConfigError(keyPath: configKeyPath(decoder.codingPath + [CodingKeys.backend]), "'\(text)' is not one of: local, redis")
            }
            self.backend = backend
        }
        defaults = RateLimits(
            requestsPerSecond: try container.decode(.requestsPerSecond, default: 0),
            requestsPerMinute: try container.decode(.requestsPerMinute, default: 0),
            tokensPerMinute: try container.decode(.tokensPerMinute, default: 0),
            concurrentRequests: try container.decode(.concurrentRequests, default: 0)
        )
        exemptCacheHits = try container.decode(.exemptCacheHits, default: true)
        redisTimeout = try container.decode(.redisTimeout, default: ConfigDuration.milliseconds(50))
    }

    func validate(redisConfigured: Bool) -> [ConfigError] {
        var problems = defaults.validate(keyPath: "limits")
        if backend == .redis, !redisConfigured {
            problems.append(ConfigError(keyPath: "limits.backend", "redis needs cache.redis.url (the limits share the cache's Redis)"))
        }
        if redisTimeout.nanoseconds <= 0 {
            problems.append(ConfigError(keyPath: "limits.redis_timeout", "must be greater than 0"))
        }
        return problems
    }
}

/// `limits.identity`: what one client is, for counting.
public enum LimitIdentity: Sendable, Equatable {
    case auto
    case header(String)

    init?(parsing text: String) {
        if text == "auto" {
            self = .auto
        } else if text.hasPrefix("header:"), text.count > 7, text.dropFirst(7).utf8.allSatisfy(NamespaceMode.isTokenByte) {
            self = .header(String(text.dropFirst(7)))
        } else {
            return nil
        }
    }
}
