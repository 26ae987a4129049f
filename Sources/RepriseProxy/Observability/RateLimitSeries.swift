/// The labels of `llm_rate_limited_total`: the route and `RateLimitKind.reason`.
struct RateLimitSeries: Hashable, Sendable {
    let route: String
    let reason: String
}
