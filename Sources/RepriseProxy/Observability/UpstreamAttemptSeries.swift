/// One `llm_upstream_attempts_total` series.
struct UpstreamAttemptSeries: Hashable, Sendable {
    var upstream: String
    var outcome: UpstreamAttemptOutcome
}
