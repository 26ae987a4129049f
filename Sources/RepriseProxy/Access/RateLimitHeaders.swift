import NIOHTTP1
import RepriseCore

/// `Retry-After` (whole seconds, at least 1) and OpenAI's `x-ratelimit-*` headers of a 429.
enum RateLimitHeaders {
    static func headers(status: RateLimitStatus, retryAfterMicroseconds: Int64) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "retry-after", value: String(max(1, (retryAfterMicroseconds + 999_999) / 1_000_000)))
        for (suffix, window) in [("requests", status.requests), ("tokens", status.tokens)] {
            guard let window else { continue }
            headers.add(name: "x-ratelimit-limit-\(suffix)", value: String(window.limit))
            headers.add(name: "x-ratelimit-remaining-\(suffix)", value: String(window.remaining))
            headers.add(name: "x-ratelimit-reset-\(suffix)", value: duration(microseconds: window.resetMicroseconds))
        }
        return headers
    }

    /// OpenAI's form: `20ms`, `1.5s`, `6m0s`.
    static func duration(microseconds: Int64) -> String {
        let milliseconds = max(0, (microseconds + 999) / 1000)
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        if milliseconds < 60_000 {
            let seconds = Double(milliseconds) / 1000
            return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
        }
        let seconds = milliseconds / 1000
        return "\(seconds / 60)m\(seconds % 60)s"
    }
}
