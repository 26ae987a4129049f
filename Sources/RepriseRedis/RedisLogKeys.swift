/// Metadata keys of every log line of RepriseRedis, in one place so dashboards and alerts can
/// rely on them. Values never carry keys or cached values (they hold tenant data).
enum RedisLogKeys {
    /// The error of a failed connect, command or probe: `code: message`.
    static let error = "redis.error"
    /// Connect attempts that failed in a row.
    static let failedAttempts = "redis.failedAttempts"
    /// Delay before the next connect attempt.
    static let retryInMilliseconds = "redis.retryInMilliseconds"
    /// Failures in a row that opened the breaker.
    static let consecutiveFailures = "redis.consecutiveFailures"
}
