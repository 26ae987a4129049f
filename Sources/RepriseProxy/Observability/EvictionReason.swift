/// The `reason` label of `llm_cache_evictions_total`.
enum EvictionReason: String, Hashable, Sendable, CaseIterable {
    /// Least recently used, removed to stay within `cache.memory.max_bytes`.
    case capacity
    /// Its TTL ran out.
    case expired
}
