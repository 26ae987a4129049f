import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import RepriseCore
import RepriseCrypto
import RepriseRedis

/// `limits:`: admits a request against its identity's limits or answers 429.
///
/// The decisions are `RateLimiter`'s (local) or `RedisGCRAScript`'s (`limits.backend: redis`,
/// one count for the fleet); concurrency is always counted here, per process. Any Redis
/// trouble (an error, the connection down, no answer within `limits.redis_timeout`) lets the
/// local limiter decide instead: limits keep holding per process, requests keep flowing.
final class RequestLimiter: Sendable {
    let config: LimitsConfig
    private let local = NIOLockedValueBox(RateLimiter())
    private let redis: RedisClient?
    /// False while the cache's Redis breaker is open: the local limiter decides at once
    /// instead of every request waiting `limits.redis_timeout` for a Redis known to be down.
    private let redisAvailable: @Sendable () -> Bool
    private let logger: Logger

    init(config: LimitsConfig, redis: RedisClient?, redisAvailable: @escaping @Sendable () -> Bool = { true }, logger: Logger) {
        self.config = config
        self.redis = config.backend == .redis ? redis : nil
        self.redisAvailable = redisAvailable
        self.logger = logger
    }

    /// Limits of `key` (its own where set, else `limits:`'s).
    func limits(for key: ClientKey?) -> RateLimits {
        let defaults = config.defaults
        guard let own = key?.limits else { return defaults }
        return RateLimits(
            requestsPerSecond: own.requestsPerSecond > 0 ? own.requestsPerSecond : defaults.requestsPerSecond,
            requestsPerMinute: own.requestsPerMinute > 0 ? own.requestsPerMinute : defaults.requestsPerMinute,
            tokensPerMinute: own.tokensPerMinute > 0 ? own.tokensPerMinute : defaults.tokensPerMinute,
            concurrentRequests: own.concurrentRequests > 0 ? own.concurrentRequests : defaults.concurrentRequests
        )
    }

    /// Who is counted: `header:NAME`'s value, else the key's name, else the credential's hash
    /// (the `credential` cache namespace: `anonymous` for requests without one).
    func identity(of request: ProxyRequest, key: ClientKey?) -> String {
        let mode: NamespaceMode
        switch config.identity {
        case .header(let name):
            mode = .header(name)
        case .auto:
            if let key { return key.name }
            mode = .credential
        }
        // Only the lines the identity is made of become Strings.
        let headers = request.head.headers
        return mode.namespace(hasher: SHA256Hasher()) { visit in headers.forEach(whereName: { mode.reads(headerNamed: $0) }, visit) }
    }

    /// Runs `proceed` when the request is within its limits, else answers 429. An admitted
    /// request is released (and its tokens corrected with the answer's usage) when it ends.
    func admit(_ request: ProxyRequest, key: ClientKey?, writer: ResponseWriter, proceed: @escaping () -> Void) {
        let limits = limits(for: key)
        guard !limits.isUnlimited else { return proceed() }
        let identity = identity(of: request, key: key)
        var tokens = 0
        if limits.tokensPerMinute > 0 {
            let body = request.body.map { Array($0.readableBytesView) } ?? []
            tokens = TokenEstimate.tokens(bodyBytes: body.count, maxTokens: TokenCap.requested(body: body))
            writer.keepAnswerTail()
        }
        let now = Self.nowMicroseconds()
        guard let redis, redisAvailable() else {
            let decision = local.withLockedValue { $0.admit(identity: identity, limits: limits, tokens: tokens, now: now) }
            return conclude(decision, identity: identity, limits: limits, tokens: tokens, countedInRedis: false, writer: writer, proceed: proceed)
        }
        let concurrency = local.withLockedValue { $0.admitConcurrency(identity: identity, limits: limits, now: now) }
        guard concurrency.isAllowed else { return refuse(concurrency, writer: writer) }
        let rates = RateLimitKind.rates(of: limits)
        guard !rates.isEmpty else {
            return conclude(concurrency, identity: identity, limits: limits, tokens: tokens, countedInRedis: true, writer: writer, proceed: proceed)
        }
        let scriptLimits = rates.map { rate in
            RedisGCRAScript.Limit(key: Self.redisKey(identity: identity, kind: rate.kind), limit: rate.gcra.limit,
                                  periodMicroseconds: rate.gcra.periodMicroseconds, cost: rate.kind.cost(tokens: tokens))
        }
        let call = RedisGCRAScript.arguments(now: nil, limits: scriptLimits)
        let timeout = TimeAmount.nanoseconds(config.redisTimeout.nanoseconds)
        RedisGCRAScript.decide.run(on: redis, keys: call.keys, arguments: call.arguments, timeout: timeout)
            .hop(to: writer.eventLoop).assumeIsolated().whenComplete { [self] result in
                let decision: RateLimitDecision
                var countedInRedis = true
                do {
                    let outcomes = try RedisGCRAScript.outcomes(result.get(), count: rates.count)
                    decision = RateLimitStatus.combine(zip(rates, outcomes).map { rate, outcome in
                        (rate.kind, rate.gcra, GCRA.Result(allowed: outcome.allowed, tat: outcome.tat, remaining: outcome.remaining,
                                                           resetMicroseconds: outcome.resetMicroseconds, retryAfterMicroseconds: outcome.retryAfterMicroseconds))
                    })
                } catch {
                    logger.debug("rate limits decided locally: Redis did not answer", metadata: ["error": "\(error)"])
                    countedInRedis = false
                    decision = local.withLockedValue { $0.admitRates(identity: identity, limits: limits, tokens: tokens, now: Self.nowMicroseconds()) }
                }
                if !decision.isAllowed || writer.clientGone { local.withLockedValue { $0.withdraw(identity: identity) } }
                guard !writer.clientGone else { return }
                conclude(decision, identity: identity, limits: limits, tokens: tokens, countedInRedis: countedInRedis, writer: writer, proceed: proceed)
            }
    }

    private func conclude(
        _ decision: RateLimitDecision, identity: String, limits: RateLimits, tokens: Int, countedInRedis: Bool,
        writer: ResponseWriter, proceed: () -> Void
    ) {
        guard decision.isAllowed else { return refuse(decision, writer: writer) }
        let redis = countedInRedis ? self.redis : nil
        writer.onReport = { [self] record in
            let delta = limits.tokensPerMinute > 0 ? record.usage.map { $0.totalTokens - tokens } ?? 0 : 0
            local.withLockedValue {
                $0.finished(identity: identity, limits: limits, tokenDelta: redis == nil ? delta : 0, now: Self.nowMicroseconds())
            }
            if let redis, delta != 0 { correctInRedis(redis, identity: identity, limits: limits, delta: delta) }
        }
        proceed()
    }

    private func correctInRedis(_ redis: RedisClient, identity: String, limits: RateLimits, delta: Int) {
        let gcra = GCRA(limit: limits.tokensPerMinute, periodMicroseconds: 60_000_000)
        let timeout = TimeAmount.nanoseconds(config.redisTimeout.nanoseconds)
        _ = RedisGCRAScript.correct.run(
            on: redis, keys: [Self.redisKey(identity: identity, kind: .tokensPerMinute)],
            arguments: ["", String(gcra.emissionInterval), String(delta)], timeout: timeout
        )
    }

    private func refuse(_ decision: RateLimitDecision, writer: ResponseWriter) {
        guard case .denied(let kind, let retryAfter, let status) = decision else { return }
        writer.metrics?.rateLimited(route: writer.record.route, reason: kind.reason)
        writer.send(error: .rateLimited(kind), extraHeaders: RateLimitHeaders.headers(status: status, retryAfterMicroseconds: retryAfter))
    }

    /// `reprise:rl:v1:<identity>:<kind>`: identities are namespace-safe (`[A-Za-z0-9._-]`).
    static func redisKey(identity: String, kind: RateLimitKind) -> String {
        "reprise:rl:v1:\(identity):\(kind.rawValue)"
    }

    static func nowMicroseconds() -> Int64 {
        Int64(NIODeadline.now().uptimeNanoseconds / 1000)
    }
}

extension ProxyError {
    static func rateLimited(_ kind: RateLimitKind) -> ProxyError {
        let what: String
        switch kind {
        case .requestsPerSecond: what = "requests per second"
        case .requestsPerMinute: what = "requests per minute"
        case .tokensPerMinute: what = "tokens per minute"
        case .concurrency: what = "concurrent requests"
        }
        return ProxyError(status: 429, type: kind == .tokensPerMinute ? "tokens" : "requests", code: "rate_limit_exceeded",
                          message: "Rate limit reached for \(what). Retry after the time in the Retry-After header.")
    }
}
