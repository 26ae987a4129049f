/// Additions on uptime nanoseconds that saturate instead of trapping: a configured "forever"
/// (`UInt64.max`) must not crash the proxy.
enum UptimeArithmetic {
    static func adding(_ duration: UInt64, to instant: UInt64) -> UInt64 {
        let (sum, overflow) = instant.addingReportingOverflow(duration)
        return overflow ? .max : sum
    }
}
