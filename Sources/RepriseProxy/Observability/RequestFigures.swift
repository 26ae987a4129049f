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
        promptTokens = Self.adding(promptTokens, other.promptTokens)
        completionTokens = Self.adding(completionTokens, other.completionTokens)
    }

    /// Counts tokens as an upstream reported them: a hostile `usage` (Int64.max) must pin the
    /// counter at its top, not trap on overflow.
    mutating func addUsage(prompt: Int, completion: Int) {
        promptTokens = Self.adding(promptTokens, max(0, prompt))
        completionTokens = Self.adding(completionTokens, max(0, completion))
    }

    static func adding(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }
}
