/// When an entry was stored and for how long it lives, with the arithmetic on them. Both come
/// from Redis (any value): every result saturates instead of overflowing.
public struct CacheEntryLifetime: Sendable, Equatable {
    /// Unix time of storage, milliseconds.
    public var createdAtMs: Int64
    /// Time to live, milliseconds.
    public var ttlMs: Int64

    public init(createdAtMs: Int64, ttlMs: Int64) {
        self.createdAtMs = createdAtMs
        self.ttlMs = ttlMs
    }

    /// Age in whole seconds at `nowMs` (for the `Age` header and request `max-age`); 0 for an
    /// entry from the future; a `createdAtMs` far in the past saturates the age.
    public func ageSeconds(nowMs: Int64) -> Int {
        let (age, overflow) = nowMs.subtractingReportingOverflow(createdAtMs)
        if overflow { return createdAtMs < 0 ? Int(Int64.max / 1000) : 0 }
        return Int(max(0, age) / 1000)
    }

    /// Unix milliseconds at which the entry expires; saturates at `Int64.max` / `Int64.min`.
    public var expiresAtMs: Int64 {
        let (sum, overflow) = createdAtMs.addingReportingOverflow(ttlMs)
        if overflow { return ttlMs > 0 ? .max : .min }
        return sum
    }

    public func isExpired(nowMs: Int64) -> Bool { nowMs >= expiresAtMs }

    /// Milliseconds left to live at `nowMs` (not positive once expired); saturates.
    public func remainingMs(nowMs: Int64) -> Int64 {
        let (remaining, overflow) = expiresAtMs.subtractingReportingOverflow(nowMs)
        if overflow { return nowMs < 0 ? .max : .min }
        return remaining
    }
}
