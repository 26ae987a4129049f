/// Requests and errors per variant over the last `window`, in `sliceCount` slices: a slice
/// older than the window is cleared before it is reused, so counts fade in steps of
/// window / sliceCount instead of all at once.
struct RollbackGuardWindow: Sendable {
    static let sliceCount = 10

    struct Count: Sendable, Equatable {
        var requests = 0
        var errors = 0
        /// Time to first byte of the requests that did not fail (kept only when the guard
        /// compares latencies).
        var latency = LatencyHistogram()
    }

    private let sliceNanoseconds: UInt64
    /// `slices[slice][variant]`, and the slice number (time / slice length) each one holds.
    private var slices: [[Count]]
    private var sliceNumbers: [UInt64]

    init(windowNanoseconds: UInt64, variantCount: Int) {
        sliceNanoseconds = max(1, windowNanoseconds / UInt64(Self.sliceCount))
        slices = Array(repeating: Array(repeating: Count(), count: variantCount), count: Self.sliceCount)
        sliceNumbers = Array(repeating: UInt64.max, count: Self.sliceCount)
    }

    mutating func record(variant: Int, isError: Bool, latencyNanoseconds: UInt64?, now: UInt64) {
        let number = now / sliceNanoseconds
        let index = Int(number % UInt64(Self.sliceCount))
        if sliceNumbers[index] != number {
            sliceNumbers[index] = number
            for variant in slices[index].indices { slices[index][variant] = Count() }
        }
        slices[index][variant].requests += 1
        if isError { slices[index][variant].errors += 1 }
        if !isError, let latencyNanoseconds { slices[index][variant].latency.record(nanoseconds: latencyNanoseconds) }
    }

    /// The counts of `variant` in the slices still inside the window at `now`.
    func total(variant: Int, now: UInt64) -> Count {
        let current = now / sliceNanoseconds
        var total = Count()
        for index in slices.indices where sliceNumbers[index] != UInt64.max && current - sliceNumbers[index] < UInt64(Self.sliceCount) {
            total.requests += slices[index][variant].requests
            total.errors += slices[index][variant].errors
            if slices[index][variant].latency.total > 0 { total.latency.add(slices[index][variant].latency) }
        }
        return total
    }

    /// Forgets `variant`'s counts (a reset guard starts from a clean window).
    mutating func clear(variant: Int) {
        for index in slices.indices { slices[index][variant] = Count() }
    }
}
