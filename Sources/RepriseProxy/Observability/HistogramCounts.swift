/// One histogram's observations as counts per bucket, kept in integer nanoseconds: recording
/// is a short scan and two adds, with no floating point and no lock of its own (the shard that
/// holds it has one). Rendered in seconds at scrape time (`RequestFamilies`).
struct HistogramCounts: Sendable {
    /// Upper bounds in nanoseconds, ascending; shared by every histogram of a family.
    let bounds: [Int64]
    /// Observations per bucket (not cumulative); the last slot is above every bound (+Inf).
    private(set) var perBucket: [Int]
    private(set) var sumNanoseconds: Int64 = 0
    private(set) var count = 0

    init(bounds: [Int64]) {
        self.bounds = bounds
        perBucket = Array(repeating: 0, count: bounds.count + 1)
    }

    mutating func record(nanoseconds: Int64) {
        let value = max(0, nanoseconds)
        var slot = 0
        while slot < bounds.count, value > bounds[slot] { slot += 1 }
        perBucket[slot] += 1
        sumNanoseconds &+= value
        count += 1
    }

    mutating func add(_ other: HistogramCounts) {
        precondition(other.bounds == bounds, "histograms of different buckets merged")
        for slot in perBucket.indices { perBucket[slot] += other.perBucket[slot] }
        sumNanoseconds &+= other.sumNanoseconds
        count += other.count
    }

    /// Bounds given in seconds (the families' bucket lists), in nanoseconds.
    static func nanosecondBounds(seconds: [Double]) -> [Int64] {
        seconds.map { Int64(($0 * 1e9).rounded()) }
    }
}
