import RepriseCore

/// One `llm_latency_seconds` / `llm_time_to_first_byte_seconds` series.
struct LatencySeries: Hashable, Sendable {
    var route: String
    var cache: CacheStatus
    var variant: String

    var labels: [(String, String)] { [("route", route), ("cache", cache.metricLabel), ("variant", variant)] }
}
