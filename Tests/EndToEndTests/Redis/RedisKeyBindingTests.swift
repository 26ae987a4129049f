import Foundation
import Testing

/// A value in Redis answers only the key it was stored under: copied to another key (another
/// tenant's, or another question's), it is a miss, and the upstream answers.
@Suite(.serialized) struct RedisKeyBindingTests {
    /// Copies the value of `source` over `target`, byte for byte (server-side Lua).
    private func copy(_ redis: RedisServer, from source: String, to target: String) async throws {
        try await redis.cli(["EVAL", "redis.call('SET', KEYS[2], redis.call('GET', KEYS[1]))", "2", source, target])
    }

    @Test func anEntryCopiedToAnotherKeyIsAMiss() async throws {
        try await withRedisTestBed { bed in
            let proxy = try await bed.startProxy(memory: false)
            let question = Chat.freshQuestion()
            // The same question from two tenants: two keys.
            #expect(try await Chat.ask(proxy, question, team: "red").cacheStatus == "MISS")
            let red = try #require(try await bed.redis.waitForKeys("reprise:v1:red:*", count: 1).first)
            #expect(try await Chat.ask(proxy, question, team: "blue").cacheStatus == "MISS")
            let blue = try #require(try await bed.redis.waitForKeys("reprise:v1:blue:*", count: 1).first)
            #expect(try await Chat.ask(proxy, question, team: "blue").cacheStatus == "HIT")

            // Red's entry under blue's key: blue is not served red's answer.
            try await copy(bed.redis, from: red, to: blue)
            let crossTenant = try await Chat.ask(proxy, question, team: "blue")
            #expect(crossTenant.status == 200)
            #expect(crossTenant.cacheStatus == "MISS")
            #expect(try await bed.upstreamCalls() == 3)

            // Another question's entry of the same tenant under red's key: not its answer either.
            let other = Chat.freshQuestion("other")
            #expect(try await Chat.ask(proxy, other, team: "red").cacheStatus == "MISS")
            let redKeys = try await bed.redis.waitForKeys("reprise:v1:red:*", count: 2)
            let otherKey = try #require(redKeys.first { $0 != red })
            try await copy(bed.redis, from: otherKey, to: red)
            let crossQuestion = try await Chat.ask(proxy, question, team: "red")
            #expect(crossQuestion.status == 200)
            #expect(crossQuestion.cacheStatus == "MISS")
            #expect(try await bed.upstreamCalls() == 5)
        }
    }
}
