import RepriseCore

/// One `llm_tokens_total` series: model label index, variant, prompt or completion, cache result.
struct TokenSeries: Hashable, Sendable {
    var model: Int
    var variant: String
    var prompt: Bool
    var cache: CacheStatus
}
