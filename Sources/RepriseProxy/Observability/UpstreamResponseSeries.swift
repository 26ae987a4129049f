/// One `llm_upstream_responses_total` series.
struct UpstreamResponseSeries: Hashable, Sendable {
    var upstream: String
    var status: Int
}
