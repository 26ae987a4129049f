/// When an upstream's circuit opens and how it recovers (`upstream.circuit_breaker.*`).
///
/// Config keys (suggested; types and defaults):
/// - `upstream.circuit_breaker.enabled` (bool, true).
/// - `upstream.circuit_breaker.failure_rate` (number in 0...1, 0.5): open when at least this
///   fraction of the outcomes in the window are failures…
/// - `upstream.circuit_breaker.minimum_requests` (int, 20): …and the window holds at least this
///   many outcomes (so three failures out of four at 3 a.m. do not open it).
/// - `upstream.circuit_breaker.window` (duration, 10s): the sliding window (10 buckets).
/// - `upstream.circuit_breaker.consecutive_failures` (int, 5; 0 disables): open after this many
///   failures in a row, whatever the rate.
/// - `upstream.circuit_breaker.open_duration` (duration, 15s): how long requests fail fast
///   before probes are let through.
/// - `upstream.circuit_breaker.half_open_probes` (int, 3): probes in flight at once while half-open.
/// - `upstream.circuit_breaker.half_open_successes` (int, 3): probe successes that close it.
/// - `upstream.circuit_breaker.probe_timeout` (duration, 60s): a probe not recorded within this
///   long is assumed lost and its slot reused.
public struct CircuitBreakerPolicy: Sendable, Hashable {
    public var failureRateThreshold: Double
    public var minimumRequests: Int
    public var windowNanoseconds: UInt64
    public var bucketCount: Int
    /// 0 disables the consecutive-failure rule.
    public var consecutiveFailures: Int
    public var openDurationNanoseconds: UInt64
    public var halfOpenMaxProbes: Int
    public var halfOpenSuccessesToClose: Int
    public var probeTimeoutNanoseconds: UInt64
    /// The `Retry-After` given to requests turned away while half-open because every probe slot
    /// is taken (the circuit may close within moments).
    public var halfOpenRejectRetryAfterNanoseconds: UInt64

    public init(
        failureRateThreshold: Double = 0.5,
        minimumRequests: Int = 20,
        windowNanoseconds: UInt64 = 10_000_000_000,
        bucketCount: Int = 10,
        consecutiveFailures: Int = 5,
        openDurationNanoseconds: UInt64 = 15_000_000_000,
        halfOpenMaxProbes: Int = 3,
        halfOpenSuccessesToClose: Int = 3,
        probeTimeoutNanoseconds: UInt64 = 60_000_000_000,
        halfOpenRejectRetryAfterNanoseconds: UInt64 = 1_000_000_000
    ) {
        self.failureRateThreshold = failureRateThreshold
        self.minimumRequests = minimumRequests
        self.windowNanoseconds = windowNanoseconds
        self.bucketCount = bucketCount
        self.consecutiveFailures = consecutiveFailures
        self.openDurationNanoseconds = openDurationNanoseconds
        self.halfOpenMaxProbes = halfOpenMaxProbes
        self.halfOpenSuccessesToClose = halfOpenSuccessesToClose
        self.probeTimeoutNanoseconds = probeTimeoutNanoseconds
        self.halfOpenRejectRetryAfterNanoseconds = halfOpenRejectRetryAfterNanoseconds
    }

    /// Unusable values as `(key, message)` with key names under `upstream.circuit_breaker`.
    public func problems() -> [(key: String, message: String)] {
        var problems: [(key: String, message: String)] = []
        if !(failureRateThreshold > 0 && failureRateThreshold <= 1) {
            problems.append(("failure_rate", "must be in (0, 1], got \(failureRateThreshold)"))
        }
        if minimumRequests < 1 { problems.append(("minimum_requests", "must be at least 1")) }
        if windowNanoseconds < 1_000_000 { problems.append(("window", "must be at least 1ms")) }
        if consecutiveFailures < 0 { problems.append(("consecutive_failures", "must not be negative (0 disables)")) }
        if openDurationNanoseconds == 0 { problems.append(("open_duration", "must be greater than 0")) }
        if halfOpenMaxProbes < 1 { problems.append(("half_open_probes", "must be at least 1")) }
        if halfOpenSuccessesToClose < 1 { problems.append(("half_open_successes", "must be at least 1")) }
        if probeTimeoutNanoseconds == 0 { problems.append(("probe_timeout", "must be greater than 0")) }
        return problems
    }
}
