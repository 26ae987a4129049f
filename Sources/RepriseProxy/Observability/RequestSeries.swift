import RepriseCore

/// One `llm_requests_total` series: route, model label index, variant, status, cache result.
struct RequestSeries: Hashable, Sendable {
    var route: String
    var model: Int
    var variant: String
    var status: Int
    var cache: CacheStatus
}
