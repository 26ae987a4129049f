import Foundation
import Testing

/// Encryption at rest with a real `redis-server`: Redis holds only sealed bytes under HMAC
/// digests, a second process with the key (rotated in front) reads them, a tampered or moved
/// entry is a miss that is counted and never served, and a key that cannot be had stops start-up
/// with its setting named.
@Suite(.serialized) struct RedisEncryptionTests {
    static let oldKey = String(repeating: "11", count: 32)
    static let newKey = Data([UInt8](repeating: 0x22, count: 32)).base64EncodedString()
    static let headers = [("authorization", "Bearer sk-encrypted-tenant"), ("content-type", "application/json")]

    static func yaml(redis: String, key: String, previous: [String] = []) -> String {
        """
        cache:
          memory:
            enabled: false
          redis:
            url: \(redis)
            lookup_timeout: 2s
          encryption_key: \(key)
          encryption_previous_keys: [\(previous.joined(separator: ", "))]

        """
    }

    static func start(_ bed: RedisTestBed, key: String, previous: [String] = [], environment: [String: String]) async throws -> RepriseProcess {
        try await RepriseProcess.start(upstream: bed.mock.baseURL, yaml: yaml(redis: bed.redis.url, key: key, previous: previous), environment: environment)
    }

    @Test func redisHoldsSealedEntriesThatOnlyTheKeyOpens() async throws {
        try await withRedisTestBed { bed in
            let environment = ["REPRISE_TEST_OLD_KEY": Self.oldKey, "REPRISE_TEST_NEW_KEY": Self.newKey]
            let first = try await Self.start(bed, key: "env:REPRISE_TEST_OLD_KEY", environment: environment)
            let question = "sealed question \(UUID().uuidString)"
            let body = MetricsE2ETests.chat(question)
            let miss = try await TestHTTP.send(.POST, first.url("/v1/chat/completions"), headers: Self.headers, body: body)
            #expect(miss.headers.first(name: "x-cache") == "MISS")
            let keys = try await bed.redis.waitForKeys(count: 1)
            let wire = try RedisWire(port: bed.redis.port)
            let stored = try #require(try wire.get(keys[0]))
            #expect(stored.first == 0xA5, "sealed form")
            #expect(!String(decoding: stored, as: UTF8.self).contains("RPRC"), "no plaintext entry")
            #expect(!String(decoding: stored, as: UTF8.self).contains(question), "the prompt shows in Redis")
            #expect(!String(decoding: stored, as: UTF8.self).contains(miss.text.prefix(40)), "the answer shows in Redis")

            // A second process, the key rotated (new one seals, old one still opens): a hit.
            let second = try await Self.start(bed, key: "env:REPRISE_TEST_NEW_KEY", previous: ["env:REPRISE_TEST_OLD_KEY"], environment: environment)
            let hit = try await TestHTTP.send(.POST, second.url("/v1/chat/completions"), headers: Self.headers, body: body)
            #expect(hit.headers.first(name: "x-cache") == "HIT")
            #expect(hit.text == miss.text)

            // An entry tampered with is a miss, counted, never served.
            var tampered = stored
            tampered[tampered.count - 1] ^= 0x01
            try wire.set(keys[0], tampered)
            let afterTamper = try await TestHTTP.send(.POST, second.url("/v1/chat/completions"), headers: Self.headers, body: body)
            #expect(afterTamper.headers.first(name: "x-cache") == "MISS")
            let samples = try await MetricsE2ETests.scrape(second)
            #expect(samples.value("reprise_cache_entries_rejected_total", ["reason": "unsealable"]) == 1)
            #expect(try await bed.upstreamCalls() == 2)

            // After the run: no Redis key or value shows a prompt or an answer; no log and no
            // metric shows the credential or a key.
            _ = try await bed.redis.waitForKeys(count: 1)
            for key in try await bed.redis.keys("*") {
                let value = String(decoding: try wire.get(key) ?? [], as: UTF8.self)
                for text in [question, String(miss.text.prefix(40)), "chat.completion", "deepseek-chat", "sk-encrypted-tenant"] {
                    #expect(!key.contains(text) && !value.contains(text), "Redis shows '\(text)' under \(key)")
                }
            }
            let metricsText = try await TestHTTP.send(.GET, second.url("/metrics")).text
            for process in [first, second] {
                for secret in ["sk-encrypted-tenant", Self.oldKey, Self.newKey] {
                    #expect(!process.process.stderr.contains(secret) && !metricsText.contains(secret), "\(secret) leaked")
                }
            }
        }
    }

    @Test func aKeyThatCannotBeHadStopsStartUpNamingItsSetting() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let short = directory.appendingPathComponent("short.key").path
        try "abcd\n".write(toFile: short, atomically: true, encoding: .utf8)
        let cases: [(String, String)] = [
            ("cache:\n  encryption_key: \(Self.oldKey)\n", "cache.encryption_key"),
            ("cache:\n  encryption_key: env:REPRISE_TEST_UNSET_KEY\n", "REPRISE_TEST_UNSET_KEY"),
            ("cache:\n  encryption_key: file:\(short)\n", "cache.encryption_key"),
            ("cache:\n  encryption_previous_keys: [file:\(short)]\n", "cache.encryption_previous_keys"),
        ]
        for (yaml, expected) in cases {
            let (code, stderr) = try await CheckConfigRun.run(yaml: yaml)
            #expect(code == 78, "\(yaml)")
            #expect(stderr.contains(expected), "\(yaml): \(stderr)")
            #expect(!stderr.contains(Self.oldKey), "a key's bytes in an error message")
        }
    }
}
