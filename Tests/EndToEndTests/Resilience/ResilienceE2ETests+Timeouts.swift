import Foundation
import Testing

/// Timeouts: the overall deadline, time to first byte per attempt, and silence inside a stream.
/// Each test's upstream would keep the client waiting far longer than the configured limit.
extension ResilienceE2ETests {
    @Test func totalTimeoutBoundsAHangingUpstream() async throws {
        try await withProxy(yaml: Self.fastRetry + "  total_timeout: 1s\n") { bed in
            let started = ContinuousClock.now
            let response = try post(bed.proxy, Self.chat("hang"), headers: ["X-Mock-Hang: 1"])
            let elapsed = ContinuousClock.now - started
            #expect(response.status == 504)
            #expect(try Self.errorObject(response.text)["message"] != nil)
            #expect(elapsed < .seconds(6), "the 504 took \(elapsed) with a 1s total_timeout")
        }
    }

    @Test func firstByteTimeoutFailsEachSlowAttempt() async throws {
        let yaml = """
            upstream:
              first_byte_timeout: 500ms
              retry:
                max_attempts: 2
                base_delay: 20ms
                max_delay: 50ms

            """
        try await withProxy(yaml: yaml) { bed in
            // The upstream would answer after 3 s: each attempt gives up after 0.5 s instead.
            let response = try post(bed.proxy, Self.chat("slow head"), headers: ["X-Mock-Latency-Ms: 3000"])
            #expect(response.status == 504)
            #expect(response.header("x-reprise-attempts") == "2")
            #expect(try await bed.mock.stats().requests == 2)
        }
    }

    @Test func stalledStreamIsCutNotLeftHanging() async throws {
        try await withProxy(yaml: Self.fastRetry + "  read_timeout: 500ms\n") { bed in
            let response = try await TestHTTP.stream(
                .POST, bed.proxy.url("/v1/chat/completions"),
                headers: [("authorization", "Bearer sk-resilience"), ("x-mock-chunk-delay-ms", "5000")],
                body: Self.chat("stalled stream", stream: true)
            )
            let ended = response.parts.last?.arrivedAt ?? response.headAt
            let duration = ContinuousClock.now - response.sentAt
            #expect(response.status == 200)
            #expect(response.bodyError != nil, "a stalled stream must end as an error, not a clean end")
            #expect(!response.events.contains("[DONE]"))
            // The mock waits 5 s between events; the 500ms idle limit cuts well before the second.
            #expect(duration < .milliseconds(4_500), "the stalled stream ended after \(duration)")
            #expect(ended - response.sentAt < .milliseconds(4_500))
            #expect(try await bed.mock.stats().requests == 1, "a stream that had started was retried")
        }
    }
}
