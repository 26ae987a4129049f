import Foundation
import Testing

/// Retries: which failures are retried, how often, how long Reprise waits, and what the client
/// finally sees.
extension ResilienceE2ETests {
    @Test func rateLimitedOnceIsRetriedAfterRetryAfter() async throws {
        try await withProxy(yaml: Self.fastRetry) { bed in
            let started = ContinuousClock.now
            let response = try post(bed.proxy, Self.chat("rate limited once"), headers: [
                "X-Mock-Status: 429", "X-Mock-Fail-Times: 1", "X-Mock-Scenario: \(UUID().uuidString)",
            ])
            let elapsed = ContinuousClock.now - started
            #expect(response.status == 200)
            #expect(response.header("x-reprise-attempts") == "2")
            #expect(try Self.messageContent(response.text).isEmpty == false)
            // The mock's 429 says `Retry-After: 1`: the backoff alone (≤ 100ms) would be quicker.
            #expect(elapsed >= .milliseconds(900), "retried after \(elapsed), before the upstream's Retry-After")
            #expect(try await bed.mock.stats().requests == 2)
        }
    }

    @Test func serverErrorTwiceThenSuccess() async throws {
        try await withProxy(yaml: Self.fastRetry) { bed in
            let response = try post(bed.proxy, Self.chat("500 twice"), headers: [
                "X-Mock-Status: 500", "X-Mock-Fail-Times: 2", "X-Mock-Scenario: \(UUID().uuidString)",
            ])
            #expect(response.status == 200)
            #expect(response.header("x-reprise-attempts") == "3")
            #expect(response.header("x-cache") == "MISS")
            #expect(try Self.messageContent(response.text).isEmpty == false)
            #expect(try await bed.mock.stats().requests == 3)
        }
    }

    @Test func persistentServerErrorReachesTheClientAfterMaxAttempts() async throws {
        try await withProxy(yaml: Self.fastRetry + "    max_attempts: 3\n") { bed in
            let response = try post(bed.proxy, Self.chat("500 always"), headers: ["X-Mock-Status: 500"])
            #expect(response.status == 500)
            #expect(response.header("x-reprise-attempts") == "3")
            // The upstream's own answer, not one made up by Reprise.
            #expect(try Self.errorObject(response.text)["code"] as? String == "server_error")
            #expect(try await bed.mock.stats().requests == 3)
        }
    }

    @Test func retryAfterBeyondTheCapPassesThe429Through() async throws {
        try await withProxy(yaml: Self.fastRetry + "    max_retry_after: 5s\n") { bed in
            let started = ContinuousClock.now
            let response = try post(bed.proxy, Self.chat("retry after 120"), headers: [
                "X-Mock-Status: 429", "X-Mock-Retry-After: 120",
            ])
            let elapsed = ContinuousClock.now - started
            #expect(response.status == 429)
            #expect(response.header("retry-after") == "120")
            #expect(response.header("x-reprise-attempts") == "1")
            #expect(try Self.errorObject(response.text)["code"] as? String == "rate_limit_exceeded")
            #expect(elapsed < .seconds(5), "the 429 took \(elapsed): Reprise waited instead of passing it through")
            #expect(try await bed.mock.stats().requests == 1)
        }
    }

    @Test func cutStreamIsNeitherRetriedNorCached() async throws {
        try await withProxy(yaml: Self.fastRetry) { bed in
            let body = Self.chat("cut stream", stream: true)
            let cut = try await TestHTTP.stream(
                .POST, bed.proxy.url("/v1/chat/completions"),
                headers: [("authorization", "Bearer sk-resilience"), ("x-mock-cut-after", "3")], body: body
            )
            #expect(cut.status == 200)
            #expect(cut.headers.first(name: "x-reprise-attempts") == "1")
            #expect(cut.bodyError != nil, "the client must learn the stream broke (got a clean end)")
            #expect(!cut.events.contains("[DONE]"))
            #expect(cut.events.count <= 3)
            // The exchange ends a moment after the client saw the cut: let it land.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await bed.mock.stats().requests == 1, "a stream that reached the client was retried")

            let again = try post(bed.proxy, body)
            #expect(again.status == 200)
            #expect(again.header("x-cache") == "MISS", "the broken stream was stored")
            #expect(again.text.hasSuffix("data: [DONE]\n\n"))
            #expect(try await bed.mock.stats().requests == 2)
        }
    }

    @Test func retryBudgetCapsUpstreamCallsUnderSustainedFailure() async throws {
        let yaml = """
            upstream:
              retry:
                max_attempts: 3
                base_delay: 5ms
                max_delay: 10ms
                budget_ratio: 0.2
                budget_min_per_second: 1
                budget_window: 10s
              circuit_breaker:
                enabled: false

            """
        try await withProxy(yaml: yaml) { bed in
            let requests = 50
            for index in 0..<requests {
                let response = try post(bed.proxy, Self.chat("budget \(index)"), headers: ["X-Mock-Status: 500"])
                #expect(response.status == 500)
            }
            let calls = try await bed.mock.stats().requests
            // Without a budget: 50 × 3 = 150 calls. With it: 50 requests, 20% of them as
            // retries, plus 1 per second of the 10 s window.
            #expect(calls <= requests + requests / 5 + 10, "\(calls) upstream calls for \(requests) failing requests")
            #expect(calls > requests, "no retry at all: the budget's minimum allows some")
        }
    }
}
