import Foundation
import Testing

/// Answers from `upstream.fallback_url` are relayed, never stored under the primary's key.
extension ResilienceE2ETests {
    @Test func fallbackAnswersAreNotStoredUnderThePrimarysKey() async throws {
        try await withProxy(yaml: Self.breakerConfig, withFallback: true) { bed in
            let fallback = try #require(bed.fallback)
            for index in 0..<3 {
                let failing = try post(bed.proxy, Self.chat("primary failure \(index)"), headers: ["X-Mock-Status: 500"])
                #expect(failing.status == 500)
            }
            // The same question twice while the primary is open: both go to the fallback.
            let question = Self.chat("asked of the fallback twice")
            for attempt in 0..<2 {
                let answered = try post(bed.proxy, question)
                #expect(answered.status == 200, "attempt \(attempt)")
                #expect(answered.header("x-cache") == "MISS", "attempt \(attempt)")
                // Give a store (if there were one) time to land before the repeat.
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(try await fallback.stats().requests == 2, "the fallback's answer was stored and replayed")
            #expect(try await bed.mock.stats().requests == 3, "the open primary was called")
        }
    }
}
