import Foundation
import Testing

/// Graceful drain on SIGTERM: readiness off while still accepting, then the listener closes,
/// in-flight streams finish, and the process exits 0.
extension ResilienceE2ETests {
    /// `GET /readyz` over a new connection; nil when the connection is refused.
    func readiness(_ proxy: RepriseProcess) -> Int? {
        guard let connection = try? proxy.connect(timeout: 5) else { return nil }
        guard (try? connection.send("GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) != nil else { return nil }
        return (try? connection.readResponse())?.status
    }

    @Test func sigtermDrainsReadinessThenListenerWhileAStreamFinishes() async throws {
        let yaml = "server:\n  drain_delay: 2s\n  shutdown_grace_period: 15s\n"
        try await withProxy(yaml: yaml) { bed in
            let proxy = bed.proxy
            #expect(readiness(proxy) == 200)
            // About 14 × 400 ms of stream: it outlives the 2 s drain delay.
            async let inFlight = TestHTTP.stream(
                .POST, proxy.url("/v1/chat/completions"),
                headers: [("authorization", "Bearer sk-resilience"), ("x-mock-chunk-delay-ms", "400"), ("x-mock-chunks", "14")],
                body: Self.chat("drain", stream: true)
            )
            _ = try await bed.mock.waitForStats(timeout: .seconds(10)) { $0.requests >= 1 }
            try await Task.sleep(for: .milliseconds(200))
            proxy.process.kill(signal: SIGTERM)
            let signalled = ContinuousClock.now

            // Drain delay: still accepting, but not ready.
            var notReady = false
            while ContinuousClock.now - signalled < .milliseconds(1_500) {
                if readiness(proxy) == 503 {
                    notReady = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(notReady, "/readyz did not turn 503 during the drain delay")

            // Then the listener closes while the stream still runs.
            var refusedAt: ContinuousClock.Instant?
            while ContinuousClock.now - signalled < .seconds(8) {
                if (try? proxy.connect(timeout: 2)) == nil {
                    refusedAt = .now
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let refused = try #require(refusedAt, "new connections were still accepted 8 s after SIGTERM")
            #expect(refused - signalled >= .milliseconds(1_500), "refused after \(refused - signalled), before the 2 s drain delay")
            #expect(proxy.process.isRunning, "the process exited before the in-flight stream could finish")

            let streamed = try await inFlight
            #expect(streamed.status == 200)
            #expect(streamed.bodyError == nil)
            #expect(streamed.events.last == "[DONE]", "the in-flight stream was cut by the drain")
            if let lastPart = streamed.parts.last {
                #expect(lastPart.arrivedAt > refused, "the stream ended before the listener closed: the test proves nothing")
            }
            let exitCode = try await proxy.process.waitForExit(timeout: .seconds(20))
            #expect(exitCode == 0)
        }
    }
}
