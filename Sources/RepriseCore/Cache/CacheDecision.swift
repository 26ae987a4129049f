/// What to do with requests that may get a different answer each time (`cache.non_deterministic`).
public enum NonDeterministicPolicy: String, Sendable, Equatable, CaseIterable {
    /// Cache them like any other request (default: an exact repeat of a sampled question gets the
    /// first sampled answer — what a caching proxy is deployed for; clients opt out per request
    /// with `Cache-Control: no-cache` / `no-store`).
    case cache
    /// Pass them through: neither looked up nor stored.
    case bypass
}

/// Cache policy from configuration.
public struct CachePolicy: Sendable, Equatable {
    /// `cache.ttl`, seconds (default 1 h).
    public var defaultTTLSeconds: Int
    /// Upper bound for `X-Reprise-Cache-TTL`, seconds.
    public var maxTTLSeconds: Int
    public var nonDeterministic: NonDeterministicPolicy

    public init(defaultTTLSeconds: Int = 3600, maxTTLSeconds: Int = 86_400, nonDeterministic: NonDeterministicPolicy = .cache) {
        self.defaultTTLSeconds = defaultTTLSeconds
        self.maxTTLSeconds = maxTTLSeconds
        self.nonDeterministic = nonDeterministic
    }
}

/// The cache's verdict for one cacheable request.
public struct CacheDecision: Sendable, Equatable {
    /// Why neither lookup nor store happens, or why one of them is off.
    public enum Reason: String, Sendable, Equatable {
        case noCacheDirective = "no-cache"
        case noStoreDirective = "no-store"
        case nonDeterministic = "non-deterministic"
        case zeroTTL = "ttl-0"
        /// The request depends on mutable server state (`RequestFacts.dependsOnServerState`: a
        /// Responses `conversation`, `background: true`): the same body asks a different
        /// question once the state moved on, and a background answer is a snapshot of work in
        /// progress. Neither looked up nor stored.
        case serverState = "server-state"
    }

    /// Look the key up (L1, then Redis).
    public var lookup: Bool
    /// Store the upstream's answer.
    public var store: Bool
    /// From request `max-age`: a hit must be at most this many seconds old.
    public var maxAgeSeconds: Int?
    /// TTL of a stored entry, seconds.
    public var ttlSeconds: Int
    /// Reasons that turned lookup or store off (empty for a normal request).
    public var reasons: [Reason]

    /// Neither lookup nor store: the answer is a BYPASS.
    public var isBypass: Bool { !lookup && !store }

    /// Whether a cached entry of this age may answer the request (RFC 9111 §5.2.1.1: the
    /// response's age is not greater than `max-age`).
    public func accepts(ageSeconds: Int) -> Bool {
        guard let maxAgeSeconds else { return true }
        return ageSeconds <= maxAgeSeconds
    }

    /// Decides for one request.
    /// - Parameters:
    ///   - cacheControl: the request's `Cache-Control` directives.
    ///   - ttlHeader: the `X-Reprise-Cache-TTL` value (seconds, non-negative integer); invalid
    ///     values are ignored, larger ones are capped at `policy.maxTTLSeconds`; `0` means "do not
    ///     store".
    ///   - generation: the route generates text (`CachePath.isGeneration`): only then can a request
    ///     be non-deterministic.
    public static func decide(policy: CachePolicy, cacheControl: CacheControlDirectives, ttlHeader: String?,
                              facts: RequestFacts, generation: Bool) -> CacheDecision {
        var decision = CacheDecision(lookup: true, store: true, maxAgeSeconds: cacheControl.maxAge,
                                     ttlSeconds: min(policy.defaultTTLSeconds, policy.maxTTLSeconds), reasons: [])
        if let ttlHeader, let seconds = parseSeconds(ttlHeader) {
            decision.ttlSeconds = min(seconds, policy.maxTTLSeconds)
        }
        if policy.nonDeterministic == .bypass, facts.isNonDeterministic(generation: generation) {
            decision.lookup = false
            decision.store = false
            decision.reasons.append(.nonDeterministic)
        }
        if facts.dependsOnServerState {
            decision.lookup = false
            decision.store = false
            decision.reasons.append(.serverState)
        }
        if cacheControl.noCache {
            decision.lookup = false
            decision.reasons.append(.noCacheDirective)
        }
        if cacheControl.noStore {
            decision.store = false
            decision.reasons.append(.noStoreDirective)
        }
        if decision.ttlSeconds <= 0 {
            decision.store = false
            decision.reasons.append(.zeroTTL)
        }
        return decision
    }

    static func parseSeconds(_ text: String) -> Int? {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty, trimmed.utf8.count <= 18, trimmed.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(trimmed)
    }
}
