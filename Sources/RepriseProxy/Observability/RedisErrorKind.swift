import RepriseRedis

/// The `kind` label of `llm_redis_errors_total`.
enum RedisErrorKind: String, Hashable, Sendable, CaseIterable {
    case timeout
    case connection
    case `protocol`
    /// Commands not sent because the Redis breaker is open.
    case breakerOpen = "breaker_open"

    init(_ error: any Error) {
        guard let redisError = error as? RedisError else {
            self = .connection
            return
        }
        switch redisError.code {
        case .commandTimeout, .connectTimeout: self = .timeout
        case .protocolError, .serverError: self = .protocol
        default: self = .connection
        }
    }
}
