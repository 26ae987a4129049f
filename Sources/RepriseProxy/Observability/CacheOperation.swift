/// One `llm_cache_operations_total` series.
struct CacheOperation: Hashable, Sendable {
    enum Op: String, Sendable { case get, set, delete }
    enum Backend: String, Sendable { case memory, redis }
    enum Result: String, Sendable { case hit, miss, stored, deleted, error }

    var op: Op
    var backend: Backend
    var result: Result
}
