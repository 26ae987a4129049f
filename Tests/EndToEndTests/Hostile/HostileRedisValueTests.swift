import Foundation
import Testing

/// Redis values a proxy did not write (garbage, truncation, another key's entry, absurd
/// lifetimes) behind a real `reprise` with a real `redis-server` and no L1: every lookup reads
/// the tampered value. The answer must be the right one and the process must live on.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HostileRedisValueTests {
    static let ttlSeconds: Int64 = 600

    @Test(arguments: MalformedRedisValue.allCases)
    func tamperedValueIsNeverServedWrongAndNeverStopsTheProcess(_ tampering: MalformedRedisValue) async throws {
        try await withRedisTestBed { bed in
            // Tenants by `X-Team` (the bed's namespace mode): "owner" and "other".
            let proxy = try await bed.startProxy(memory: false, ttl: "\(Self.ttlSeconds)s")
            let wire = try RedisWire(port: bed.redis.port)
            let owner = [("X-Team", "owner")]
            let question = Chat.freshQuestion("owner")

            let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
            let first = try await ask(proxy, question, headers: owner)
            #expect(first.status == 200)
            #expect(first.cacheStatus == "MISS")
            let key = try await waitForNewKey(wire, excluding: [])
            guard let stored = try wire.get(key) else {
                Issue.record("the key \(key) vanished")
                return
            }
            #expect(try await ask(proxy, question, headers: owner).cacheStatus == "HIT", "the stored entry is not served")

            var foreignMarker: String?
            let replacement: [UInt8]
            switch tampering {
            case .garbage: replacement = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }
            case .empty: replacement = []
            case .truncatedToHalf: replacement = Array(stored.prefix(stored.count / 2))
            case .oneByteFlipped:
                var flipped = stored
                flipped[flipped.count / 2] ^= 0x5A
                replacement = flipped
            case .payloadLengthOfFourGiB: replacement = Array(stored.prefix(5)) + [0xFF, 0xFF, 0xFF, 0xFF] + Array(stored.dropFirst(9).prefix(64))
            case .oversized: replacement = []  // grown in Redis below: 65 MiB need not cross the test's socket
            case .copiedFromAnotherTenant:
                let marker = "OTHER-TENANT-\(UUID().uuidString)"
                foreignMarker = marker
                let other = try await ask(
                    proxy, Chat.freshQuestion("other"),
                    headers: [("X-Team", "other"), ("X-Mock-Marker", marker)]
                )
                #expect(other.text.contains(marker))
                let otherKey = try await waitForNewKey(wire, excluding: [key])
                replacement = try wire.get(otherKey) ?? []
            default:
                guard let times = tampering.patchedTimes(createdAtMs: nowMs, ttlMs: Self.ttlSeconds * 1000) else {
                    Issue.record("no replacement for \(tampering)")
                    return
                }
                replacement = try StoredEntryPatcher.patchTimes(stored, nowMs: nowMs, ttlMs: Self.ttlSeconds * 1000, to: times)
            }
            try wire.set(key, replacement)
            if tampering == .oversized {
                let reply = try wire.command("SETRANGE", key, String(65 << 20), "x")
                #expect(reply == .integer((65 << 20) + 1))
            }

            let again = try await ask(proxy, question, headers: owner)
            #expect(again.status == 200, "\(again.text.prefix(500))")
            #expect(again.body == first.body, "not the answer to this question: \(again.text.prefix(500))")
            if let foreignMarker {
                #expect(!again.text.contains(foreignMarker), "another tenant's answer was served")
            }
            switch tampering.expectation {
            case .hit: #expect(again.cacheStatus == "HIT")
            case .miss: #expect(again.cacheStatus == "MISS")
            case .correctAnswer: break
            }
            #expect(proxy.process.isRunning, "reprise stopped: exit \(String(describing: proxy.process.exitCode))\n\(proxy.process.stderr.suffix(3000))")
            let health = try await TestHTTP.send(.GET, proxy.url("/healthz"))
            #expect(health.status == 200)
        }
    }

    private func ask(_ proxy: RepriseProcess, _ question: String, headers: [(String, String)]) async throws -> TestHTTPResponse {
        try await TestHTTP.send(
            .POST, proxy.url("/v1/chat/completions"),
            headers: [("Authorization", "Bearer sk-redis-e2e")] + headers,
            body: Chat.body(question)
        )
    }

    /// Stores are fire-and-forget: polls until a Reprise key other than `excluding` exists.
    private func waitForNewKey(_ wire: RedisWire, excluding: Set<String>) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let key = try wire.scan("reprise:*").first(where: { !excluding.contains($0) }) { return key }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RedisWire.Failure(description: "no new reprise:* key appeared")
    }
}
