/// One series of a per-variant metric (`llm_rollback_guard_trips_total`, `llm_variant_weight`).
struct VariantSeries: Hashable, Sendable {
    var route: String
    var variant: String
}
