import Foundation
import NIOHTTP1
import Testing

/// `limits:` against the real binary: 429s with OpenAI's headers, hits exempt, tokens
/// corrected from usage, concurrency under a burst.
@Suite(.serialized) struct LimitsE2ETests {
    static func metric(_ proxy: RepriseProcess, _ name: String, _ labels: [String: String]) async throws -> Double {
        PrometheusSample.parse(try await TestHTTP.send(.GET, proxy.url("/metrics")).text).value(name, labels)
    }

    @Test func requestsPerMinuteRefusesWith429AndOpenAIHeadersAndHitsStayExempt() async throws {
        try await withAccessBed { bed in
            let proxy = try await bed.start("limits:\n  requests_per_minute: 3\n")
            let first = AccessRequest.chat("limit \(UUID().uuidString)")
            #expect(try await AccessRequest.send(proxy, key: "sk-client-1", body: first).status == 200)
            for _ in 0..<2 {
                #expect(try await AccessRequest.send(proxy, key: "sk-client-1", body: AccessRequest.chat("limit \(UUID().uuidString)")).status == 200)
            }
            let refused = try await AccessRequest.send(proxy, key: "sk-client-1", body: AccessRequest.chat("limit \(UUID().uuidString)"))
            #expect(refused.status == 429)
            #expect(AccessRequest.errorCode(refused) == "rate_limit_exceeded")
            let retryAfter = try #require(refused.headers.first(name: "retry-after").flatMap { Int($0) })
            #expect((19...20).contains(retryAfter))
            #expect(refused.headers.first(name: "x-ratelimit-limit-requests") == "3")
            #expect(refused.headers.first(name: "x-ratelimit-remaining-requests") == "0")
            #expect(refused.headers.first(name: "x-ratelimit-reset-requests")?.hasSuffix("s") == true)
            // A hit is served although the identity is over its limit, and is not counted.
            let hit = try await AccessRequest.send(proxy, key: "sk-client-1", body: first)
            #expect(hit.status == 200 && hit.headers.first(name: "x-cache") == "HIT")
            // Another credential is another identity.
            #expect(try await AccessRequest.send(proxy, key: "sk-client-2", body: AccessRequest.chat("limit \(UUID().uuidString)")).status == 200)
            #expect(try await bed.mock.stats().requests == 4)
            #expect(try await Self.metric(proxy, "llm_rate_limited_total", ["route": "default", "reason": "requests"]) == 1)
            #expect(try await Self.metric(proxy, "llm_requests_total", ["status": "429"]) == 1)
        }
    }

    @Test func withoutTheExemptionHitsCountToo() async throws {
        try await withAccessBed { bed in
            let proxy = try await bed.start("limits:\n  requests_per_minute: 2\n  exempt_cache_hits: false\n")
            let question = AccessRequest.chat("count hits \(UUID().uuidString)")
            #expect(try await AccessRequest.send(proxy, key: "sk-c", body: question).status == 200)
            #expect(try await AccessRequest.send(proxy, key: "sk-c", body: question).headers.first(name: "x-cache") == "HIT")
            #expect(try await AccessRequest.send(proxy, key: "sk-c", body: question).status == 429)
        }
    }

    @Test func tokensAreEstimatedBeforeAndCorrectedFromUsage() async throws {
        try await withAccessBed { bed in
            let proxy = try await bed.start("limits:\n  tokens_per_minute: 400\n")
            // About 35 prompt tokens + 100 asked: ~135 estimated, 2 used.
            let usage = [("x-mock-usage", #"{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}"#)]
            for index in 0..<8 {
                let response = try await AccessRequest.send(proxy, key: "sk-t", body: AccessRequest.chat("tok \(UUID().uuidString)", extra: #""max_tokens":100,"#),
                                                            headers: usage)
                #expect(response.status == 200, "request \(index): refunds must keep the estimate from piling up")
            }
            // An answer that used more than estimated is charged in full: 1000 > 400 a minute.
            let heavy = [("x-mock-usage", #"{"prompt_tokens":500,"completion_tokens":500,"total_tokens":1000}"#)]
            #expect(try await AccessRequest.send(proxy, key: "sk-t", body: AccessRequest.chat("tok \(UUID().uuidString)", extra: #""max_tokens":10,"#),
                                                 headers: heavy).status == 200)
            let after = try await AccessRequest.send(proxy, key: "sk-t", body: AccessRequest.chat("tok \(UUID().uuidString)", extra: #""max_tokens":10,"#))
            #expect(after.status == 429)
            #expect(after.headers.first(name: "x-ratelimit-limit-tokens") == "400")
            #expect(after.headers.first(name: "x-ratelimit-remaining-tokens") == "0")
            #expect(((try? after.json())?["error"] as? [String: Any])?["type"] as? String == "tokens")
            // A request estimated above the whole minute's budget is refused outright.
            let huge = try await AccessRequest.send(proxy, key: "sk-other", body: AccessRequest.chat("tok \(UUID().uuidString)", extra: #""max_tokens":5000,"#))
            #expect(huge.status == 429)
            #expect(try await Self.metric(proxy, "llm_rate_limited_total", ["reason": "tokens"]) == 2)
        }
    }

    @Test func concurrencyLimitUnderABurst() async throws {
        try await withAccessBed { bed in
            let proxy = try await bed.start("limits:\n  concurrent_requests: 2\n")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await AccessRequest.send(proxy, key: "sk-burst", body: AccessRequest.chat("burst \(index) \(UUID().uuidString)"),
                                                     headers: [("x-mock-latency-ms", "1500")]).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 2, "\(statuses)")
            #expect(statuses.filter { $0 == 429 }.count == 4, "\(statuses)")
            #expect(try await Self.metric(proxy, "llm_rate_limited_total", ["reason": "concurrency"]) == 4)
            // Released at the end: the next ones pass.
            for _ in 0..<2 {
                #expect(try await AccessRequest.send(proxy, key: "sk-burst", body: AccessRequest.chat("after \(UUID().uuidString)")).status == 200)
            }
        }
    }

    @Test func keysModeCountsPerKeyWithTheKeysOwnLimits() async throws {
        try await withAccessBed { bed in
            let proxy = try await bed.start("""
                auth:
                  mode: keys
                  upstream_key: env:REPRISE_E2E_UPSTREAM_KEY
                  keys:
                    - {name: team-alpha, key_sha256: \(TestKeys.alphaSHA256), limits: {requests_per_minute: 1}}
                    - {name: team-beta, key_sha256: \(TestKeys.betaSHA256)}
                limits:
                  requests_per_minute: 2

                """)
            #expect(try await AccessRequest.send(proxy, key: TestKeys.alpha, body: AccessRequest.chat("k \(UUID().uuidString)")).status == 200)
            #expect(try await AccessRequest.send(proxy, key: TestKeys.alpha, body: AccessRequest.chat("k \(UUID().uuidString)")).status == 429)
            for _ in 0..<2 {
                #expect(try await AccessRequest.send(proxy, key: TestKeys.beta, body: AccessRequest.chat("k \(UUID().uuidString)")).status == 200)
            }
            #expect(try await AccessRequest.send(proxy, key: TestKeys.beta, body: AccessRequest.chat("k \(UUID().uuidString)")).status == 429)
        }
    }
}
