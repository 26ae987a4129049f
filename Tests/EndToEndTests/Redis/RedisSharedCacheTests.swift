import Foundation
import Testing

/// Redis as the shared L2 behind each proxy's L1, end to end: real `reprise` processes, a real
/// `redis-server`, the mock upstream's counter as proof of who answered.
@Suite(.serialized) struct RedisSharedCacheTests {
    @Test func secondProxyAnswersTheFirstOnesEntryFromRedis() async throws {
        try await withRedisTestBed { bed in
            let first = try await bed.startProxy()
            let second = try await bed.startProxy()
            let question = Chat.freshQuestion()

            let miss = try await Chat.ask(first, question)
            #expect(miss.status == 200)
            #expect(miss.cacheStatus == "MISS")
            try await bed.redis.waitForKeys("reprise:v1:red:*", count: 1)

            let hit = try await Chat.ask(second, question)
            #expect(hit.status == 200)
            #expect(hit.cacheStatus == "HIT")
            #expect(hit.headers.first(name: "age") != nil)
            #expect(hit.body == miss.body)
            #expect(try await bed.upstreamCalls() == 1)
        }
    }

    @Test func streamedAnswerIsReplayedByTheOtherProxy() async throws {
        try await withRedisTestBed { bed in
            let first = try await bed.startProxy()
            let second = try await bed.startProxy()
            let question = Chat.freshQuestion("stream")

            let live = try await Chat.ask(first, question, stream: true)
            #expect(live.cacheStatus == "MISS")
            #expect(live.text.hasSuffix("data: [DONE]\n\n"))
            try await bed.redis.waitForKeys("reprise:v1:red:*", count: 1)

            let replayed = try await Chat.ask(second, question, stream: true)
            #expect(replayed.cacheStatus == "HIT")
            #expect(replayed.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            #expect(ServerSentEvents.dataPayloads(replayed.text) == ServerSentEvents.dataPayloads(live.text))
            #expect(replayed.text == live.text)
            #expect(try await bed.upstreamCalls() == 1)
        }
    }

    @Test func withoutMemoryCacheEveryHitComesFromRedis() async throws {
        try await withRedisTestBed { bed in
            let proxy = try await bed.startProxy(memory: false)
            let question = Chat.freshQuestion()
            #expect(try await Chat.ask(proxy, question).cacheStatus == "MISS")
            try await bed.redis.waitForKeys("reprise:v1:red:*", count: 1)
            #expect(try await Chat.ask(proxy, question).cacheStatus == "HIT")
            #expect(try await Chat.ask(proxy, question).cacheStatus == "HIT")
            #expect(try await bed.upstreamCalls() == 1)
            // Emptied behind the proxy's back: with no L1, the next answer is a miss.
            try await bed.redis.cli(["FLUSHALL"])
            #expect(try await Chat.ask(proxy, question).cacheStatus == "MISS")
            #expect(try await bed.upstreamCalls() == 2)
        }
    }

    @Test func restartedProxyWithAnEmptyMemoryCacheHitsRedis() async throws {
        try await withRedisTestBed { bed in
            let before = try await bed.startProxy()
            let question = Chat.freshQuestion()
            #expect(try await Chat.ask(before, question).cacheStatus == "MISS")
            try await bed.redis.waitForKeys("reprise:v1:red:*", count: 1)
            await bed.stopProxy(before)

            let after = try await bed.startProxy()
            let hit = try await Chat.ask(after, question)
            #expect(hit.cacheStatus == "HIT")
            #expect(try await bed.upstreamCalls() == 1)
        }
    }

    @Test func redisHitFillsTheMemoryCache() async throws {
        try await withRedisTestBed { bed in
            let writer = try await bed.startProxy()
            let reader = try await bed.startProxy()
            let question = Chat.freshQuestion()
            #expect(try await Chat.ask(writer, question).cacheStatus == "MISS")
            try await bed.redis.waitForKeys("reprise:v1:red:*", count: 1)
            #expect(try await Chat.ask(reader, question).cacheStatus == "HIT")

            // Redis gone: the reader still has the answer in its own L1.
            await bed.redis.kill()
            let fromMemory = try await Chat.ask(reader, question)
            #expect(fromMemory.status == 200)
            #expect(fromMemory.cacheStatus == "HIT")
            // A question it never saw goes to the upstream, Redis or not.
            let unseen = try await Chat.ask(reader, Chat.freshQuestion())
            #expect(unseen.status == 200)
            #expect(unseen.cacheStatus == "MISS")
            #expect(try await bed.upstreamCalls() == 2)
        }
    }

    @Test func entriesAreStoredWithTheirTTLAndExpireInRedis() async throws {
        try await withRedisTestBed { bed in
            let proxy = try await bed.startProxy(memory: false, ttl: "30s")
            let lasting = Chat.freshQuestion("lasting")
            #expect(try await Chat.ask(proxy, lasting, team: "red").cacheStatus == "MISS")
            let key = try #require(try await bed.redis.waitForKeys("reprise:v1:red:*", count: 1).first)
            let pttl = try #require(Int(try await bed.redis.cli(["PTTL", key])))
            #expect(pttl > 0)
            #expect(pttl <= 30_000)

            // A request asking for a one-second life: gone from Redis after it.
            let brief = Chat.freshQuestion("brief")
            #expect(try await Chat.ask(proxy, brief, team: "blue", headers: [("X-Reprise-Cache-TTL", "1")]).cacheStatus == "MISS")
            let briefKey = try #require(try await bed.redis.waitForKeys("reprise:v1:blue:*", count: 1).first)
            let briefTTL = try #require(Int(try await bed.redis.cli(["PTTL", briefKey])))
            #expect(briefTTL > 0)
            #expect(briefTTL <= 1_000)
            try await bed.redis.waitForKeys("reprise:v1:blue:*", count: 0, timeout: .seconds(10))
            #expect(try await Chat.ask(proxy, brief, team: "blue").cacheStatus == "MISS")
            // The long-lived entry is still there.
            #expect(try await Chat.ask(proxy, lasting, team: "red").cacheStatus == "HIT")
            #expect(try await bed.upstreamCalls() == 3)
        }
    }

    @Test func purgeRemovesRedisKeysAllOrByNamespace() async throws {
        try await withRedisTestBed { bed in
            let proxy = try await bed.startProxy()
            let other = try await bed.startProxy(memory: false)
            let question = Chat.freshQuestion()
            for team in ["red", "blue"] {
                #expect(try await Chat.ask(proxy, question, team: team).cacheStatus == "MISS")
                #expect(try await Chat.ask(proxy, Chat.freshQuestion(), team: team).cacheStatus == "MISS")
            }
            try await bed.redis.waitForKeys(count: 4)

            let red = try await Chat.purge(proxy, namespace: "red")
            #expect(red.status == 200)
            #expect(red.text.contains(#""namespace":"red""#))
            #expect(try await bed.redis.keys("reprise:v1:red:*").isEmpty)
            #expect(try await bed.redis.keys("reprise:v1:blue:*").count == 2)
            #expect(try await Chat.ask(other, question, team: "red").cacheStatus == "MISS")
            #expect(try await Chat.ask(other, question, team: "blue").cacheStatus == "HIT")
            try await bed.redis.waitForKeys("reprise:v1:red:*", count: 1)

            // A purge through the proxy without L1 counts Redis's keys only.
            let all = try await Chat.purge(other)
            #expect(all.status == 200)
            #expect(all.text.contains(#""purged":3"#))
            #expect(try await bed.redis.keys().isEmpty)
            #expect(try await Chat.ask(other, question, team: "blue").cacheStatus == "MISS")
        }
    }

    @Test func corruptValuesInRedisAreMissesAndGetReplaced() async throws {
        try await withRedisTestBed { bed in
            let proxy = try await bed.startProxy(memory: false)
            let question = Chat.freshQuestion()
            let original = try await Chat.ask(proxy, question)
            #expect(original.cacheStatus == "MISS")
            let key = try #require(try await bed.redis.waitForKeys(count: 1).first)
            #expect(try await Chat.ask(proxy, question).cacheStatus == "HIT")

            // Server-side Lua, so binary values stay exact: garbage, an empty value, the entry cut
            // short, the entry with its length field or a body byte changed.
            let corruptions: [(name: String, script: String)] = [
                ("garbage", "redis.call('SET', KEYS[1], 'not a cache entry at all')"),
                ("empty", "redis.call('SET', KEYS[1], '')"),
                ("truncated", "local v = redis.call('GET', KEYS[1]); redis.call('SET', KEYS[1], string.sub(v, 1, math.floor(#v / 2)))"),
                ("length", "redis.call('SETRANGE', KEYS[1], 5, '\\255\\255\\255\\255')"),
                ("bit flip", "local v = redis.call('GET', KEYS[1]); local i = math.floor(#v / 2); redis.call('SETRANGE', KEYS[1], i, string.char((string.byte(v, i + 1) + 1) % 256))"),
                ("wrong type", "redis.call('DEL', KEYS[1]); redis.call('LPUSH', KEYS[1], 'a list')"),
            ]
            for (index, corruption) in corruptions.enumerated() {
                try await bed.redis.cli(["EVAL", corruption.script, "1", key])
                let corrupt = try await fingerprint(bed.redis, key)
                let answer = try await Chat.ask(proxy, question)
                #expect(answer.status == 200, "\(corruption.name)")
                #expect(answer.cacheStatus == "MISS", "\(corruption.name)")
                #expect(answer.body == original.body, "\(corruption.name)")
                #expect(try await bed.upstreamCalls() == 2 + index, "\(corruption.name)")
                // The fresh answer replaces the corrupt value (stores land a moment later).
                let deadline = ContinuousClock.now + .seconds(20)
                while try await fingerprint(bed.redis, key) == corrupt, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(try await Chat.ask(proxy, question).cacheStatus == "HIT", "\(corruption.name)")
            }
            #expect(try await bed.redis.cli(["TYPE", key]) == "string")
            #expect(try await bed.upstreamCalls() == 1 + corruptions.count)
        }
    }

    /// The value's type, or its SHA-1 when it is a string: tells whether it was replaced.
    private func fingerprint(_ redis: RedisServer, _ key: String) async throws -> String {
        let script = "local t = redis.call('TYPE', KEYS[1])['ok']; if t ~= 'string' then return t end; "
            + "return redis.sha1hex(redis.call('GET', KEYS[1]))"
        return try await redis.cli(["EVAL", script, "1", key])
    }
}
