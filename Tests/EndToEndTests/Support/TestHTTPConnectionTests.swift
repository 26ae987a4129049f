import Foundation
import Testing

/// The test client itself: every exchange gives its connection back (a test process that keeps
/// descriptors ends up unable to spawn processes).
@Suite struct TestHTTPConnectionTests {
    @Test func exchangesCloseTheirConnections() async throws {
        let mock = try await MockUpstream.start()
        _ = try await mock.stats()
        let before = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        for _ in 0..<100 { _ = try await mock.stats() }
        _ = try await TestHTTP.stream(.POST, mock.url("/v1/chat/completions"), headers: [("x-mock-chunks", "3")],
                                      body: ResilienceE2ETests.chat("fd check", stream: true))
        try await Task.sleep(for: .milliseconds(300))
        let after = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        await mock.stop()
        #expect(after <= before + 5, "descriptors before \(before), after \(after)")
    }
}
