/// `upstream.retry:` — retries before anything reached the client.
public struct RetryConfig: Sendable, Decodable {
    /// Attempts per request, the first included; 1 disables retries.
    public var maxAttempts = 3
    /// Backoff ceiling of the first retry; doubles per retry up to `max_delay` (full jitter).
    public var baseDelay = ConfigDuration.milliseconds(200)
    public var maxDelay = ConfigDuration.seconds(5)
    /// `Retry-After` up to this long is honoured; an upstream asking for longer gets its answer
    /// passed to the client instead of a retry.
    public var maxRetryAfter = ConfigDuration.seconds(30)
    /// Retries may add at most this fraction of the request load (over `budget_window`) ...
    public var budgetRatio = 0.2
    /// ... plus this many retries per second, so low traffic can still retry.
    public var budgetMinPerSecond = 10
    public var budgetWindow = ConfigDuration.seconds(10)

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxAttempts = "max_attempts"
        case baseDelay = "base_delay"
        case maxDelay = "max_delay"
        case maxRetryAfter = "max_retry_after"
        case budgetRatio = "budget_ratio"
        case budgetMinPerSecond = "budget_min_per_second"
        case budgetWindow = "budget_window"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RetryConfig()
        maxAttempts = try c.decode(.maxAttempts, default: d.maxAttempts)
        baseDelay = try c.decode(.baseDelay, default: d.baseDelay)
        maxDelay = try c.decode(.maxDelay, default: d.maxDelay)
        maxRetryAfter = try c.decode(.maxRetryAfter, default: d.maxRetryAfter)
        budgetRatio = try c.decode(.budgetRatio, default: d.budgetRatio)
        budgetMinPerSecond = try c.decode(.budgetMinPerSecond, default: d.budgetMinPerSecond)
        budgetWindow = try c.decode(.budgetWindow, default: d.budgetWindow)
    }

    func validate() -> [ConfigError] {
        var problems: [ConfigError] = []
        if !(1...10).contains(maxAttempts) {
            problems.append(ConfigError(keyPath: "upstream.retry.max_attempts", "must be between 1 and 10, got \(maxAttempts)"))
        }
        if baseDelay.nanoseconds <= 0 { problems.append(ConfigError(keyPath: "upstream.retry.base_delay", "must be greater than 0")) }
        if maxDelay < baseDelay { problems.append(ConfigError(keyPath: "upstream.retry.max_delay", "must not be shorter than base_delay")) }
        if !(0...10).contains(budgetRatio) {
            problems.append(ConfigError(keyPath: "upstream.retry.budget_ratio", "must be between 0 and 10, got \(budgetRatio)"))
        }
        if budgetMinPerSecond < 0 { problems.append(ConfigError(keyPath: "upstream.retry.budget_min_per_second", "must not be negative")) }
        if budgetWindow.nanoseconds < 1_000_000_000 { problems.append(ConfigError(keyPath: "upstream.retry.budget_window", "must be at least 1s")) }
        return problems
    }

    public func policy(deadline: ConfigDuration) -> RetryPolicy {
        RetryPolicy(
            maxAttempts: maxAttempts,
            baseDelayNanoseconds: UInt64(baseDelay.nanoseconds),
            maxDelayNanoseconds: UInt64(maxDelay.nanoseconds),
            maxRetryAfterNanoseconds: UInt64(maxRetryAfter.nanoseconds),
            deadlineNanoseconds: UInt64(deadline.nanoseconds)
        )
    }

    public var budgetPolicy: RetryBudgetPolicy {
        RetryBudgetPolicy(ratio: budgetRatio, minRetriesPerSecond: budgetMinPerSecond, windowNanoseconds: UInt64(budgetWindow.nanoseconds))
    }
}

/// `upstream.circuit_breaker:` — fail fast while an upstream is down.
public struct CircuitBreakerConfig: Sendable, Decodable {
    public var enabled = true
    /// Opens when this fraction of calls in `window` failed (with at least `minimum_requests`) ...
    public var failureRate = 0.5
    public var minimumRequests = 20
    public var window = ConfigDuration.seconds(10)
    /// ... or after this many failures in a row (0: only the rate counts).
    public var consecutiveFailures = 5
    /// Time open before probes are let through.
    public var openDuration = ConfigDuration.seconds(15)
    /// Probes admitted at once while half-open, and successes that close the circuit.
    public var halfOpenProbes = 3
    public var halfOpenSuccesses = 3

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, window
        case failureRate = "failure_rate"
        case minimumRequests = "minimum_requests"
        case consecutiveFailures = "consecutive_failures"
        case openDuration = "open_duration"
        case halfOpenProbes = "half_open_probes"
        case halfOpenSuccesses = "half_open_successes"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = CircuitBreakerConfig()
        enabled = try c.decode(.enabled, default: d.enabled)
        failureRate = try c.decode(.failureRate, default: d.failureRate)
        minimumRequests = try c.decode(.minimumRequests, default: d.minimumRequests)
        window = try c.decode(.window, default: d.window)
        consecutiveFailures = try c.decode(.consecutiveFailures, default: d.consecutiveFailures)
        openDuration = try c.decode(.openDuration, default: d.openDuration)
        halfOpenProbes = try c.decode(.halfOpenProbes, default: d.halfOpenProbes)
        halfOpenSuccesses = try c.decode(.halfOpenSuccesses, default: d.halfOpenSuccesses)
    }

    func validate() -> [ConfigError] {
        var problems: [ConfigError] = []
        let key = "upstream.circuit_breaker"
        if !(failureRate > 0 && failureRate <= 1) { problems.append(ConfigError(keyPath: "\(key).failure_rate", "must be in (0, 1], got \(failureRate)")) }
        if minimumRequests < 1 { problems.append(ConfigError(keyPath: "\(key).minimum_requests", "must be at least 1")) }
        if window.nanoseconds < 1_000_000_000 { problems.append(ConfigError(keyPath: "\(key).window", "must be at least 1s")) }
        if consecutiveFailures < 0 { problems.append(ConfigError(keyPath: "\(key).consecutive_failures", "must not be negative")) }
        if openDuration.nanoseconds <= 0 { problems.append(ConfigError(keyPath: "\(key).open_duration", "must be greater than 0")) }
        if halfOpenProbes < 1 { problems.append(ConfigError(keyPath: "\(key).half_open_probes", "must be at least 1")) }
        if halfOpenSuccesses < 1 {
            problems.append(ConfigError(keyPath: "\(key).half_open_successes", "must be at least 1"))
        }
        return problems
    }

    public var policy: CircuitBreakerPolicy {
        CircuitBreakerPolicy(
            failureRateThreshold: failureRate,
            minimumRequests: minimumRequests,
            windowNanoseconds: UInt64(window.nanoseconds),
            consecutiveFailures: consecutiveFailures,
            openDurationNanoseconds: UInt64(openDuration.nanoseconds),
            halfOpenMaxProbes: halfOpenProbes,
            halfOpenSuccessesToClose: halfOpenSuccesses
        )
    }
}

/// `coalescing:` — concurrent identical cacheable requests share one upstream call.
public struct CoalescingConfig: Sendable, Decodable {
    public var enabled = true
    /// Requests that may join one flight; more go upstream on their own.
    public var maxFollowers = 1000
    /// Flights in progress at once (per process); beyond it requests go upstream on their own.
    public var maxFlights = 10_000

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled
        case maxFollowers = "max_followers"
        case maxFlights = "max_flights"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = CoalescingConfig()
        enabled = try c.decode(.enabled, default: d.enabled)
        maxFollowers = try c.decode(.maxFollowers, default: d.maxFollowers)
        maxFlights = try c.decode(.maxFlights, default: d.maxFlights)
    }

    func validate() -> [ConfigError] {
        var problems: [ConfigError] = []
        if maxFollowers < 1 { problems.append(ConfigError(keyPath: "coalescing.max_followers", "must be at least 1")) }
        if maxFlights < 1 { problems.append(ConfigError(keyPath: "coalescing.max_flights", "must be at least 1")) }
        return problems
    }
}
