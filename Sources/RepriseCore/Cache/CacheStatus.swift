/// What the cache did for one proxied request: the `X-Cache` header of its answer (and, for
/// the metrics and logs built on it, the `cache` label).
public enum CacheStatus: String, Sendable, CaseIterable {
    /// Answered from a stored entry (L1 or Redis), without the upstream.
    case hit = "HIT"
    /// Cacheable, not found: answered by the upstream (and stored when it may be).
    case miss = "MISS"
    /// Not cacheable (path, method, body, tenant, directives, server state): passed through.
    case bypass = "BYPASS"
    /// Answered by an identical request's upstream call already in flight.
    case coalesced = "COALESCED"

    /// The `X-Cache` header value.
    public var headerValue: String { rawValue }
}
