import RepriseCore

/// `Cache-Control` (every line of the input is one field value) and `X-Reprise-Cache-TTL` (the
/// first line) through `CacheDecision.decide`: never traps; a parsed `max-age` and the TTL are
/// never negative, and the TTL never exceeds the policy's maximum.
enum CacheControlFuzz {
    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let directives = CacheControlDirectives(parsing: lines)
        if let maxAge = directives.maxAge { precondition(maxAge >= 0, "negative max-age \(maxAge)") }
        let policy = CachePolicy(defaultTTLSeconds: 3600, maxTTLSeconds: 86_400, nonDeterministic: .bypass)
        let decision = CacheDecision.decide(policy: policy, cacheControl: directives, ttlHeader: lines.first.map(String.init),
                                            facts: RequestFacts(), generation: true)
        precondition(decision.ttlSeconds >= 0 && decision.ttlSeconds <= policy.maxTTLSeconds, "TTL \(decision.ttlSeconds)")
        _ = decision.accepts(ageSeconds: Int.max)
        _ = decision.accepts(ageSeconds: 0)
    }
}
