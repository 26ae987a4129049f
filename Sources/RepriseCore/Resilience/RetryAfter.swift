/// The `Retry-After` response header (RFC 9110 §10.2.3): read from upstreams, written to clients.
public enum RetryAfter {
    /// How long `headerValue` asks the client to wait, in nanoseconds, or nil when the value is
    /// neither delta-seconds nor an HTTP-date (such a header is ignored, as if absent).
    ///
    /// A date in the past means "now" (0). Absurdly long waits saturate at `UInt64.max`
    /// rather than overflow, so callers can compare them with their cap.
    ///
    /// - Parameter nowUnixMilliseconds: the wall clock, needed only for the HTTP-date form.
    public static func delayNanoseconds(parsing headerValue: some StringProtocol, nowUnixMilliseconds: Int64) -> UInt64? {
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        var bytes = Substring(headerValue).utf8[...]
        while let first = bytes.first, isSpace(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, isSpace(last) { bytes = bytes.dropLast() }
        if !bytes.isEmpty, bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            var seconds: UInt64 = 0
            for byte in bytes {
                let (times10, overflow1) = seconds.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                if overflow1 || overflow2 { return .max }
                seconds = sum
            }
            return nanoseconds(seconds: seconds)
        }
        let nowSeconds = nowUnixMilliseconds >= 0 ? nowUnixMilliseconds / 1000 : (nowUnixMilliseconds - 999) / 1000
        guard let date = HTTPDate.unixSeconds(parsing: headerValue, nowUnixSeconds: nowSeconds) else { return nil }
        let (dateMilliseconds, overflow) = date.multipliedReportingOverflow(by: 1000)
        if overflow { return date > 0 ? .max : 0 }
        let waitMilliseconds = dateMilliseconds.subtractingReportingOverflow(nowUnixMilliseconds)
        if waitMilliseconds.overflow { return dateMilliseconds > nowUnixMilliseconds ? .max : 0 }
        guard waitMilliseconds.partialValue > 0 else { return 0 }
        let (nanos, overflowNanos) = UInt64(waitMilliseconds.partialValue).multipliedReportingOverflow(by: 1_000_000)
        return overflowNanos ? .max : nanos
    }

    /// The delta-seconds value to send to a client for a wait of `nanoseconds`: whole seconds,
    /// rounded up (a client told "0" would come back at once), at least 1.
    public static func headerValue(nanoseconds: UInt64) -> String {
        let seconds = nanoseconds / 1_000_000_000 + (nanoseconds % 1_000_000_000 == 0 ? 0 : 1)
        return String(max(1, seconds))
    }

    private static func nanoseconds(seconds: UInt64) -> UInt64 {
        let (value, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : value
    }
}
