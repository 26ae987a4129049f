/// How many retries an upstream may receive on top of its requests (`upstream.retry.budget.*`).
///
/// Over any sliding `window`, retries are granted while
/// `retries < ⌊ratio × requests⌋ + ⌊minRetriesPerSecond × windowSeconds⌋`. Under a sustained total
/// outage this keeps upstream calls within `(1 + ratio) × requests` plus the small allowance,
/// instead of `max_attempts × requests`.
///
/// Config keys (suggested; types and defaults):
/// - `upstream.retry.budget.ratio` (number, 0.2): retries as a fraction of requests; 0 leaves only
///   the allowance.
/// - `upstream.retry.budget.min_retries_per_second` (int, 10): allowance so that low traffic can
///   still retry.
/// - `upstream.retry.budget.window` (duration, 10s): the sliding window (10 buckets).
public struct RetryBudgetPolicy: Sendable, Hashable {
    public var ratio: Double
    public var minRetriesPerSecond: Int
    public var windowNanoseconds: UInt64
    /// Buckets in the ring; the window slides by `window / bucketCount` steps.
    public var bucketCount: Int

    public init(ratio: Double = 0.2, minRetriesPerSecond: Int = 10, windowNanoseconds: UInt64 = 10_000_000_000, bucketCount: Int = 10) {
        self.ratio = ratio
        self.minRetriesPerSecond = minRetriesPerSecond
        self.windowNanoseconds = windowNanoseconds
        self.bucketCount = bucketCount
    }

    /// The fixed part of the allowance over one window: `minRetriesPerSecond × windowSeconds`,
    /// saturating at `Int.max` (a configured rate near `Int.max` means "unbounded", not a trap).
    public var allowancePerWindow: Int {
        let allowance = (Double(minRetriesPerSecond) * Double(windowNanoseconds) / 1e9).rounded(.down)
        return allowance < Double(Int.max) ? Int(allowance) : .max
    }

    /// Unusable values as `(key, message)` with key names under `upstream.retry.budget`.
    public func problems() -> [(key: String, message: String)] {
        var problems: [(key: String, message: String)] = []
        if !(ratio.isFinite && ratio >= 0 && ratio <= 10) {
            problems.append(("ratio", "must be between 0 and 10, got \(ratio)"))
        }
        if minRetriesPerSecond < 0 { problems.append(("min_retries_per_second", "must not be negative")) }
        if windowNanoseconds < 1_000_000 { problems.append(("window", "must be at least 1ms")) }
        if !(1...1000).contains(bucketCount) { problems.append(("buckets", "must be between 1 and 1000")) }
        return problems
    }
}
