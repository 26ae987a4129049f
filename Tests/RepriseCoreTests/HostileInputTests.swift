import Testing
@testable import RepriseCore

/// Inputs that trapped the process (issue 18): each case crashed the original code. A
/// malformed value is ignored, as the README documents per header.
@Suite("Hostile input never traps the pure parsers")
struct HostileInputTests {
    @Test(arguments: ["=", "no-cache,=", "=60", " = ", "max-age=60, =, no-store", "=,=,="])
    func aCacheControlDirectiveWithoutANameIsIgnored(value: String) {
        let directives = CacheControlDirectives(parsing: value)
        #expect(directives.noCache == value.contains("no-cache"))
        #expect(directives.noStore == value.contains("no-store"))
        #expect(directives.maxAge == (value.contains("max-age=60") ? 60 : nil))
    }

    @Test func entryAgeAndExpirySaturateAtTheEdgesOfInt64() {
        func entry(createdAtMs: Int64, ttlMs: Int64) -> CacheEntry {
            CacheEntry(status: 200, headers: [], createdAtMs: createdAtMs, ttlMs: ttlMs, model: nil, usage: nil, body: .json([]))
        }
        let now: Int64 = 1_700_000_000_000
        // From Redis: a creation time and TTL whose sum overflows.
        let forever = entry(createdAtMs: .max - 10, ttlMs: .max)
        #expect(!forever.isExpired(nowMs: now))
        #expect(forever.expiresAtMs == .max)
        #expect(forever.remainingMs(nowMs: now) == .max - now)
        #expect(forever.remainingMs(nowMs: -now) == .max)
        #expect(forever.ageSeconds(nowMs: now) == 0)
        let ancient = entry(createdAtMs: .min, ttlMs: .min)
        #expect(ancient.isExpired(nowMs: now))
        #expect(ancient.expiresAtMs == .min)
        #expect(ancient.remainingMs(nowMs: now) < 0)
        #expect(ancient.ageSeconds(nowMs: now) == Int(Int64.max / 1000))
        let ordinary = entry(createdAtMs: now - 5_000, ttlMs: 60_000)
        #expect(ordinary.ageSeconds(nowMs: now) == 5 && ordinary.remainingMs(nowMs: now) == 55_000 && !ordinary.isExpired(nowMs: now))
    }

    @Test func upstreamUsageThatDoesNotAddUpIsLeftOut() throws {
        let overflowing = #"{"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":1},"choices":[]}"#
        let entry = try #require(CacheEntry.forJSONResponse(status: 200, headers: [], body: Array(overflowing.utf8),
                                                            nowMs: 0, ttlMs: 1000, maxBytes: 1 << 20))
        #expect(entry.usage == nil)
        let withTotal = #"{"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":1,"total_tokens":5}}"#
        let kept = try #require(CacheEntry.forJSONResponse(status: 200, headers: [], body: Array(withTotal.utf8),
                                                           nowMs: 0, ttlMs: 1000, maxBytes: 1 << 20))
        #expect(kept.usage == CacheEntry.Usage(promptTokens: .max, completionTokens: 1, totalTokens: 5))
    }

    @Test func usageInAStreamChunkThatDoesNotAddUpIsLeftOut() {
        var recorder = StreamRecorder(maxBytes: 1 << 20)
        recorder.feed(Array(#"data: {"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":9}}"#.utf8) + [10, 10])
        #expect(recorder.usage == nil && recorder.isRecordable)
    }

    @Test func aRetryAllowanceNearIntMaxSaturates() {
        let policy = RetryBudgetPolicy(ratio: 0.2, minRetriesPerSecond: .max, windowNanoseconds: 10_000_000_000)
        #expect(policy.allowancePerWindow == .max)
        let budget = RetryBudget(policy: policy)
        budget.recordRequest(now: 1)
        #expect(budget.tryAcquireRetry(now: 1))
    }
}
