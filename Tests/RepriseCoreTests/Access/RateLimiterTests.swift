import Testing
@testable import RepriseCore

/// Traces with a fake clock (µs): each step is an event and the decision it must produce.
@Suite("Rate limiter (GCRA)")
struct RateLimiterTests {
    static let second: Int64 = 1_000_000

    func allowed(_ decision: RateLimitDecision) -> Bool { decision.isAllowed }

    @Test func aBurstOfTheLimitPassesThenTheNextWaitsOneInterval() {
        let gcra = GCRA(limit: 10, periodMicroseconds: Self.second)
        var tat: Int64?
        let start: Int64 = 100 * Self.second
        for index in 0..<10 {
            let result = gcra.evaluate(tat: tat, cost: 1, now: start)
            #expect(result.allowed, "request \(index)")
            #expect(result.remaining == 9 - index)
            tat = result.tat
        }
        let refused = gcra.evaluate(tat: tat, cost: 1, now: start)
        #expect(!refused.allowed && refused.remaining == 0)
        #expect(refused.retryAfterMicroseconds == 100_000)
        #expect(refused.resetMicroseconds == Self.second)
        // One emission interval later, exactly one more fits.
        let later = gcra.evaluate(tat: tat, cost: 1, now: start + 100_000)
        #expect(later.allowed && later.remaining == 0)
        #expect(!gcra.evaluate(tat: later.tat, cost: 1, now: start + 100_000).allowed)
    }

    @Test func aCostAboveTheWholeLimitIsNeverAllowedAndNeverOverflows() {
        let gcra = GCRA(limit: 1000, periodMicroseconds: 60 * Self.second)
        #expect(!gcra.evaluate(tat: nil, cost: 1001, now: 0).allowed)
        #expect(!gcra.evaluate(tat: nil, cost: Int.max, now: 5).allowed)
        #expect(gcra.evaluate(tat: nil, cost: 1000, now: 0).allowed)
    }

    @Test func correctionsMoveTheTATButARefundNeverBeforeNow() {
        let gcra = GCRA(limit: 60, periodMicroseconds: 60 * Self.second)
        let now: Int64 = 1000 * Self.second
        #expect(gcra.corrected(tat: now + 10 * Self.second, delta: 5, now: now) == now + 15 * Self.second)
        #expect(gcra.corrected(tat: now + 10 * Self.second, delta: -5, now: now) == now + 5 * Self.second)
        #expect(gcra.corrected(tat: now + 10 * Self.second, delta: -50, now: now) == now)
        #expect(gcra.corrected(tat: now - Self.second, delta: -5, now: now) == now - Self.second)
        #expect(gcra.corrected(tat: now - Self.second, delta: 5, now: now) == now + 5 * Self.second)
        #expect(gcra.corrected(tat: nil, delta: 5, now: now) == nil)
    }

    @Test func everyLimitMustAllowAndADeniedRequestCountsInNone() {
        var limiter = RateLimiter()
        let limits = RateLimits(requestsPerSecond: 100, requestsPerMinute: 3)
        let t: Int64 = 50 * Self.second
        for _ in 0..<3 { #expect(allowed(limiter.admit(identity: "a", limits: limits, tokens: 0, now: t))) }
        for _ in 0..<3 { limiter.finished(identity: "a", limits: limits, tokenDelta: 0, now: t) }
        guard case .denied(let kind, let retry, let status) = limiter.admit(identity: "a", limits: limits, tokens: 0, now: t) else {
            Issue.record("the fourth request in a minute must be refused")
            return
        }
        #expect(kind == .requestsPerMinute)
        #expect(retry == 20 * Self.second)
        #expect(status.requests == RateLimitStatus.Window(limit: 3, remaining: 0, resetMicroseconds: 60 * Self.second))
        // Another identity is not affected; the per-second limit was not charged for the refusal.
        #expect(allowed(limiter.admit(identity: "b", limits: limits, tokens: 0, now: t)))
        #expect(allowed(limiter.admit(identity: "a", limits: limits, tokens: 0, now: t + 20 * Self.second)))
    }

    @Test func tokensAreEstimatedThenCorrectedFromUsage() {
        var limiter = RateLimiter()
        let limits = RateLimits(tokensPerMinute: 1000)
        let t: Int64 = 10 * Self.second
        // Estimated 600: the next 600 do not fit.
        #expect(allowed(limiter.admit(identity: "a", limits: limits, tokens: 600, now: t)))
        guard case .denied(.tokensPerMinute, _, let status) = limiter.admit(identity: "a", limits: limits, tokens: 600, now: t) else {
            Issue.record("1200 tokens within a minute of a 1000 limit must be refused")
            return
        }
        #expect(status.tokens?.remaining == 400)
        // The answer used 100: 500 refunded, so 600 more fit now.
        limiter.finished(identity: "a", limits: limits, tokenDelta: -500, now: t)
        #expect(allowed(limiter.admit(identity: "a", limits: limits, tokens: 600, now: t)))
        if case .allowed(let after) = limiter.admit(identity: "a", limits: limits, tokens: 0, now: t) {
            #expect(after.tokens?.remaining == 300)
        }
    }

    @Test func concurrencyCountsRequestsInFlightUntilTheyFinish() {
        var limiter = RateLimiter()
        let limits = RateLimits(concurrentRequests: 2)
        #expect(allowed(limiter.admit(identity: "a", limits: limits, tokens: 0, now: 0)))
        #expect(allowed(limiter.admit(identity: "a", limits: limits, tokens: 0, now: 0)))
        #expect(limiter.admit(identity: "a", limits: limits, tokens: 0, now: 0) == .denied(kind: .concurrency, retryAfterMicroseconds: 0, status: RateLimitStatus()))
        limiter.finished(identity: "a", limits: limits, tokenDelta: 0, now: 1)
        #expect(allowed(limiter.admit(identity: "a", limits: limits, tokens: 0, now: 1)))
        #expect(limiter.inFlight(identity: "a") == 2)
    }

    @Test func concurrencyAloneThenRatesIsTheRedisPathsLocalHalf() {
        var limiter = RateLimiter()
        let limits = RateLimits(requestsPerSecond: 1, concurrentRequests: 1)
        #expect(allowed(limiter.admitConcurrency(identity: "a", limits: limits, now: 0)))
        #expect(!allowed(limiter.admitConcurrency(identity: "a", limits: limits, now: 0)))
        // Redis did not answer: the local rates decide, without counting concurrency again.
        #expect(allowed(limiter.admitRates(identity: "a", limits: limits, tokens: 0, now: 0)))
        #expect(!allowed(limiter.admitRates(identity: "a", limits: limits, tokens: 0, now: 0)))
        #expect(limiter.inFlight(identity: "a") == 1)
        limiter.withdraw(identity: "a")
        #expect(limiter.inFlight(identity: "a") == 0)
    }

    @Test func identitiesWithWholeLimitsAreForgotten() {
        var limiter = RateLimiter()
        let limits = RateLimits(requestsPerSecond: 10)
        for index in 0..<100 {
            _ = limiter.admit(identity: "id-\(index)", limits: limits, tokens: 0, now: 0)
            limiter.finished(identity: "id-\(index)", limits: limits, tokenDelta: 0, now: 0)
        }
        #expect(limiter.identityCount == 100)
        for _ in 0..<RateLimiter.sweepInterval { _ = limiter.admit(identity: "late", limits: limits, tokens: 0, now: 10 * Self.second) }
        #expect(limiter.identityCount == 1)
    }
}
