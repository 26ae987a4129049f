import RepriseCore

/// HTTP-dates and `Retry-After` on arbitrary text, at a clock taken from the input (anywhere
/// in years 0...9999): never trap; an IMF-fixdate that parses round-trips through the
/// delta form; a wait is never "now" for a date in the future.
enum HTTPDateFuzz {
    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        // Years 0...9999 span about ±2.5e11 s around 1970.
        let nowSeconds = Int64(input.integer(Int32.self)) * 64
        let nowMilliseconds = nowSeconds * 1000 + Int64(input.byte()) * 4
        let text = String(decoding: input.rest, as: UTF8.self)
        let date = HTTPDate.unixSeconds(parsing: text, nowUnixSeconds: nowSeconds)
        let delay = RetryAfter.delayNanoseconds(parsing: text, nowUnixMilliseconds: nowMilliseconds)
        if let date, date * 1000 > nowMilliseconds {
            precondition(delay.map { $0 > 0 } ?? false, "a future date gave no wait")
        }
        if let delay {
            let header = RetryAfter.headerValue(nanoseconds: delay)
            precondition(RetryAfter.delayNanoseconds(parsing: header, nowUnixMilliseconds: nowMilliseconds) != nil, "\(header) does not parse")
        }
    }
}
