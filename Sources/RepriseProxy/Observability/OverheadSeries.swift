import RepriseCore

/// One `llm_proxy_overhead_seconds` series.
struct OverheadSeries: Hashable, Sendable {
    var route: String
    var cache: CacheStatus
}
