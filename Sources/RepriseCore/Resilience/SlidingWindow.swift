/// Counts over the last `window` of uptime, kept in a ring of equal buckets.
///
/// Adding and reading cost O(`bucketCount`) with no allocation after `init`. A bucket is
/// identified by its absolute index (`now / bucketWidth`); a slot whose stored index is older
/// than the window is treated as empty and reset when written. Timestamps that arrive slightly
/// out of order (event loops read the clock before taking the lock) are counted in the newest
/// bucket seen, so the window never moves backwards.
///
/// Not thread-safe by itself: owners keep it inside a `Mutex`.
struct SlidingWindow<Counts: AdditiveArithmetic & Sendable>: Sendable {
    private struct Bucket {
        var index: UInt64
        var counts: Counts
    }

    let bucketWidthNanoseconds: UInt64
    private var buckets: [Bucket]
    private var newestIndex: UInt64 = 0

    /// - Parameters:
    ///   - windowNanoseconds: total span covered (rounded down to a whole number of buckets,
    ///     at least one nanosecond per bucket).
    ///   - bucketCount: number of buckets (at least 1); more buckets slide more smoothly.
    init(windowNanoseconds: UInt64, bucketCount: Int) {
        let count = max(1, bucketCount)
        self.bucketWidthNanoseconds = max(1, windowNanoseconds / UInt64(count))
        // `index` starts at UInt64.max so that no slot is mistaken for bucket 0 before it is written.
        self.buckets = Array(repeating: Bucket(index: .max, counts: .zero), count: count)
    }

    /// Adds `delta` to the bucket of `now`.
    mutating func add(_ delta: Counts, now: UInt64) {
        let index = advance(to: now)
        let slot = Int(index % UInt64(buckets.count))
        if buckets[slot].index != index {
            buckets[slot] = Bucket(index: index, counts: .zero)
        }
        buckets[slot].counts += delta
    }

    /// The sum of the buckets inside the window ending at `now`.
    mutating func total(now: UInt64) -> Counts {
        let newest = advance(to: now)
        let count = UInt64(buckets.count)
        var sum = Counts.zero
        for bucket in buckets where bucket.index != .max && bucket.index <= newest && newest - bucket.index < count {
            sum += bucket.counts
        }
        return sum
    }

    /// Forgets everything (used when a circuit closes again: old failures must not count).
    mutating func reset() {
        for slot in buckets.indices { buckets[slot] = Bucket(index: .max, counts: .zero) }
    }

    private mutating func advance(to now: UInt64) -> UInt64 {
        newestIndex = max(newestIndex, now / bucketWidthNanoseconds)
        return newestIndex
    }
}
