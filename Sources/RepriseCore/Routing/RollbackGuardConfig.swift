/// `routing.routes[].rollback_guard:` — turns a variant off (0%) when its error rate (or, when
/// `latency_ratio` is set, its p95 time to first byte) is far above the route's first (stable)
/// variant's over a window with enough requests.
public struct RollbackGuardConfig: Sendable, Decodable, Equatable {
    public var enabled = false
    /// Counts older than this are forgotten (kept in `RollbackGuardWindow.sliceCount` slices).
    public var window = ConfigDuration.seconds(60)
    /// Requests each of the two variants must have in the window before anything is decided.
    public var minRequests = 50
    /// Trip when the variant's error rate is above this multiple of the stable variant's ...
    public var errorRatio = 2.0
    /// ... and at least this many points (a fraction) above it, so a stable rate near 0 does not
    /// make one error look like a multiple ...
    public var minErrorRateIncrease = 0.05
    /// ... and its error count is this unlikely by chance: the exact binomial tail at the pooled
    /// rate, given as the z of a normal tail as small (4.5: 3.4e-6). It is checked on every
    /// request, over overlapping windows: in `RollbackGuardNoiseTests`' simulated stable
    /// workloads 3.0 tripped about every other hour and 4.0 once per 100 hours.
    public var minZScore = 4.5
    /// Also trip when the variant's p95 time to first byte (of its requests that did not fail)
    /// is at least this multiple of the stable variant's ...; 0: latency is not compared.
    public var latencyRatio = 0.0
    /// ... and at least this much longer.
    public var minLatencyIncrease = ConfigDuration.seconds(1)

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, window
        case minRequests = "min_requests"
        case errorRatio = "error_ratio"
        case minErrorRateIncrease = "min_error_rate_increase"
        case minZScore = "min_z_score"
        case latencyRatio = "latency_ratio"
        case minLatencyIncrease = "min_latency_increase"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RollbackGuardConfig()
        enabled = try c.decode(.enabled, default: d.enabled)
        window = try c.decode(.window, default: d.window)
        minRequests = try c.decode(.minRequests, default: d.minRequests)
        errorRatio = try c.decode(.errorRatio, default: d.errorRatio)
        minErrorRateIncrease = try c.decode(.minErrorRateIncrease, default: d.minErrorRateIncrease)
        minZScore = try c.decode(.minZScore, default: d.minZScore)
        latencyRatio = try c.decode(.latencyRatio, default: d.latencyRatio)
        minLatencyIncrease = try c.decode(.minLatencyIncrease, default: d.minLatencyIncrease)
    }

    func validate(keyPath: String) -> [ConfigError] {
        var problems: [ConfigError] = []
        if window.nanoseconds < 1_000_000_000 { problems.append(ConfigError(keyPath: "\(keyPath).window", "must be at least 1s")) }
        if minRequests < 1 { problems.append(ConfigError(keyPath: "\(keyPath).min_requests", "must be at least 1, got \(minRequests)")) }
        if !(errorRatio >= 1) { problems.append(ConfigError(keyPath: "\(keyPath).error_ratio", "must be at least 1, got \(errorRatio)")) }
        if !(0...1).contains(minErrorRateIncrease) {
            problems.append(ConfigError(keyPath: "\(keyPath).min_error_rate_increase", "must be between 0 and 1, got \(minErrorRateIncrease)"))
        }
        if !(minZScore >= 0) { problems.append(ConfigError(keyPath: "\(keyPath).min_z_score", "must not be negative, got \(minZScore)")) }
        if latencyRatio != 0, !(latencyRatio >= 1) {
            problems.append(ConfigError(keyPath: "\(keyPath).latency_ratio", "must be 0 (off) or at least 1, got \(latencyRatio)"))
        }
        return problems
    }
}
