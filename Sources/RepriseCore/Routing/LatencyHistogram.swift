/// Time-to-first-byte counts in fixed buckets, 1 ms to about 10 minutes, each bound 25% above
/// the previous: a p95 read from it is at most 25% high, which is fine for a guard comparing
/// latencies that differ by a multiple.
public struct LatencyHistogram: Sendable, Equatable {
    /// Upper bounds in nanoseconds; the last bucket takes everything above.
    static let bounds: [UInt64] = {
        var bounds: [UInt64] = []
        var bound = 1_000_000.0
        while bound < 600_000_000_000 {
            bounds.append(UInt64(bound))
            bound *= 1.25
        }
        bounds.append(UInt64.max)
        return bounds
    }()

    private(set) var counts = [Int](repeating: 0, count: LatencyHistogram.bounds.count)
    public private(set) var total = 0

    mutating func record(nanoseconds: UInt64) {
        // Binary search: the first bound at or above the value.
        var low = 0, high = Self.bounds.count - 1
        while low < high {
            let mid = (low + high) / 2
            if Self.bounds[mid] >= nanoseconds { high = mid } else { low = mid + 1 }
        }
        counts[low] += 1
        total += 1
    }

    mutating func add(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
        total += other.total
    }

    /// The upper bound of the bucket holding the `quantile` (0...1); nil when empty.
    func quantile(_ quantile: Double) -> UInt64? {
        guard total > 0 else { return nil }
        let rank = Int((quantile * Double(total)).rounded(.up))
        var seen = 0
        for (index, count) in counts.enumerated() {
            seen += count
            if seen >= max(1, rank) { return Self.bounds[index] }
        }
        return Self.bounds.last
    }
}
