import Foundation
import Testing

/// The circuit breaker: opens on consecutive failures, fails fast (or uses the fallback) while
/// open, lets a probe through after `open_duration`, and closes on its success.
extension ResilienceE2ETests {
    /// One attempt per request, so each failing request is exactly one breaker failure.
    static let breakerConfig = """
        upstream:
          retry:
            max_attempts: 1
          circuit_breaker:
            consecutive_failures: 3
            open_duration: 2s
            half_open_probes: 1
            half_open_successes: 1

        """

    @Test func breakerOpensFailsFastThenHalfOpensAndCloses() async throws {
        try await withProxy(yaml: Self.breakerConfig) { bed in
            for index in 0..<3 {
                let failing = try post(bed.proxy, Self.chat("breaker failure \(index)"), headers: ["X-Mock-Status: 500"])
                #expect(failing.status == 500)
            }
            #expect(try await bed.mock.stats().requests == 3)

            // Open: refused at once, without calling the upstream.
            let refused = try post(bed.proxy, Self.chat("while open"))
            #expect(refused.status == 503)
            #expect(try Self.errorObject(refused.text)["code"] as? String == "upstream_circuit_open")
            let retryAfter = try #require(refused.header("retry-after").flatMap(Int.init), "503 without a numeric Retry-After")
            #expect((1...2).contains(retryAfter), "Retry-After \(retryAfter) for a 2s open duration")
            #expect(try await bed.mock.stats().requests == 3, "the upstream was called while the circuit was open")

            // After open_duration a probe goes through; its success closes the circuit.
            try await Task.sleep(for: .milliseconds(2_300))
            let probe = try post(bed.proxy, Self.chat("probe"))
            #expect(probe.status == 200)
            #expect(try await bed.mock.stats().requests == 4)

            // Closed, not still half-open: one failure no longer reopens it (3 in a row would).
            let oneFailure = try post(bed.proxy, Self.chat("single failure after closing"), headers: ["X-Mock-Status: 500"])
            #expect(oneFailure.status == 500)
            let afterFailure = try post(bed.proxy, Self.chat("after the single failure"))
            #expect(afterFailure.status == 200, "a single failure reopened the circuit: it was not closed")
            #expect(try await bed.mock.stats().requests == 6)
        }
    }

    @Test func fallbackAnswersWhilePrimaryIsOpen() async throws {
        try await withProxy(yaml: Self.breakerConfig, withFallback: true) { bed in
            let fallback = try #require(bed.fallback)
            for index in 0..<3 {
                let failing = try post(bed.proxy, Self.chat("primary failure \(index)"), headers: ["X-Mock-Status: 500"])
                #expect(failing.status == 500)
            }
            #expect(try await bed.mock.stats().requests == 3)
            #expect(try await fallback.stats().requests == 0)

            for index in 0..<2 {
                let answered = try post(bed.proxy, Self.chat("via fallback \(index)"))
                #expect(answered.status == 200)
                #expect(try Self.messageContent(answered.text).isEmpty == false)
            }
            #expect(try await fallback.stats().requests == 2, "the fallback did not answer while the primary was open")
            #expect(try await bed.mock.stats().requests == 3, "the open primary was called")
        }
    }
}
