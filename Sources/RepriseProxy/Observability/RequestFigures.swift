/// What the requests of one `RequestSeries` added up to: the figures behind
/// `llm_requests_total`, the latency, first-byte and overhead histograms and the token counts.
struct RequestFigures: Sendable {
    var requests = 0
    var latency: HistogramCounts
    var timeToFirstByte: HistogramCounts
    var overhead: HistogramCounts
    var promptTokens = 0
    var completionTokens = 0

    init() {
        latency = HistogramCounts(bounds: RequestFamilies.latencyBounds)
        timeToFirstByte = HistogramCounts(bounds: RequestFamilies.latencyBounds)
        overhead = HistogramCounts(bounds: RequestFamilies.overheadBounds)
    }

    mutating func add(_ other: RequestFigures) {
        requests += other.requests
        latency.add(other.latency)
        timeToFirstByte.add(other.timeToFirstByte)
        overhead.add(other.overhead)
        promptTokens += other.promptTokens
        completionTokens += other.completionTokens
    }
}
