/// The local limiter: per identity, the TAT of each rate limit (`GCRA`) and the requests in
/// progress. A state machine without clock or lock: each event carries the time (µs) and the
/// owner serializes them; tested as traces.
///
/// A request is admitted when every limit of its identity allows it, and then counted in all of
/// them at once; a request denied by one limit is counted in none.
public struct RateLimiter: Sendable {
    struct IdentityState: Sendable {
        var tats: [RateLimitKind: Int64] = [:]
        var inFlight = 0
    }

    private var identities: [String: IdentityState] = [:]
    private var eventsSinceSweep = 0
    /// Identities whose limits are whole again are forgotten every this many admissions.
    static let sweepInterval = 4096

    public init() {}

    /// Identities with state (for tests and bounds).
    public var identityCount: Int { identities.count }

    /// Concurrency, then the rate limits. Allowed: the request is in flight until `finished`.
    public mutating func admit(identity: String, limits: RateLimits, tokens: Int, now: Int64) -> RateLimitDecision {
        sweepIfDue(now: now)
        if let denied = concurrencyDenial(identity: identity, limits: limits) { return denied }
        let decision = admitRates(identity: identity, limits: limits, tokens: tokens, now: now)
        if decision.isAllowed { identities[identity, default: IdentityState()].inFlight += 1 }
        return decision
    }

    /// Only the rate limits: counted in all of them when all allow (the local fallback of a
    /// request whose concurrency was already admitted).
    public mutating func admitRates(identity: String, limits: RateLimits, tokens: Int, now: Int64) -> RateLimitDecision {
        let rates = RateLimitKind.rates(of: limits)
        guard !rates.isEmpty else { return .allowed(RateLimitStatus()) }
        var state = identities[identity] ?? IdentityState()
        let results = rates.map { rate in
            (rate.kind, rate.gcra, rate.gcra.evaluate(tat: state.tats[rate.kind], cost: rate.kind.cost(tokens: tokens), now: now))
        }
        let decision = RateLimitStatus.combine(results)
        if decision.isAllowed {
            for (kind, _, result) in results { state.tats[kind] = result.tat }
            identities[identity] = state
        }
        return decision
    }

    /// Only the concurrency limit (the rates are decided elsewhere: Redis). Allowed: the
    /// request is in flight until `finished`.
    public mutating func admitConcurrency(identity: String, limits: RateLimits, now: Int64) -> RateLimitDecision {
        sweepIfDue(now: now)
        if let denied = concurrencyDenial(identity: identity, limits: limits) { return denied }
        identities[identity, default: IdentityState()].inFlight += 1
        return .allowed(RateLimitStatus())
    }

    /// The request admitted for `identity` ended; `tokenDelta` is its answer's tokens minus
    /// the estimate it was counted for (0 when the answer told no usage, or Redis counted it).
    public mutating func finished(identity: String, limits: RateLimits, tokenDelta: Int, now: Int64) {
        guard var state = identities[identity] else { return }
        state.inFlight = max(0, state.inFlight - 1)
        if tokenDelta != 0, limits.tokensPerMinute > 0 {
            let gcra = GCRA(limit: limits.tokensPerMinute, periodMicroseconds: 60_000_000)
            state.tats[.tokensPerMinute] = gcra.corrected(tat: state.tats[.tokensPerMinute], delta: tokenDelta, now: now)
        }
        identities[identity] = state
    }

    /// The request was admitted for concurrency but Redis then denied it: not in flight.
    public mutating func withdraw(identity: String) {
        guard var state = identities[identity] else { return }
        state.inFlight = max(0, state.inFlight - 1)
        identities[identity] = state
    }

    public func inFlight(identity: String) -> Int { identities[identity]?.inFlight ?? 0 }

    private func concurrencyDenial(identity: String, limits: RateLimits) -> RateLimitDecision? {
        guard limits.concurrentRequests > 0, inFlight(identity: identity) >= limits.concurrentRequests else { return nil }
        // No time tells when a request ends: the client may retry at once (Retry-After: 1).
        return .denied(kind: .concurrency, retryAfterMicroseconds: 0, status: RateLimitStatus())
    }

    private mutating func sweepIfDue(now: Int64) {
        eventsSinceSweep += 1
        guard eventsSinceSweep >= Self.sweepInterval else { return }
        eventsSinceSweep = 0
        identities = identities.filter { _, state in state.inFlight > 0 || state.tats.values.contains { $0 > now } }
    }
}
