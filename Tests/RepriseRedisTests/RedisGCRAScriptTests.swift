import Foundation
import NIOCore
import RepriseCore
import RepriseRedis
import Testing

/// The Lua script against the local limiter on the same traces (time passed in): the fleet's
/// limit must decide what one process would.
@Suite("Rate-limit Lua script")
struct RedisGCRAScriptTests {
    func makeClient(_ server: RedisServerProcess) async throws -> RedisClient {
        var configuration = try RedisConfiguration(url: server.url)
        configuration.poolSize = 1
        configuration.commandTimeout = .seconds(2)
        let client = RedisClient(configuration: configuration, eventLoopGroup: testGroup)
        try await client.connect().get()
        return client
    }

    /// A deterministic walk: small and large time steps, costs around the limits.
    struct Walk {
        var state: UInt64
        mutating func next(_ bound: UInt64) -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (state >> 33) % bound
        }
    }

    func scriptDecision(_ client: RedisClient, identity: String, limits: RateLimits, tokens: Int, now: Int64) async throws -> RateLimitDecision {
        let rates = RateLimitKind.rates(of: limits)
        let call = RedisGCRAScript.arguments(now: now, limits: rates.map { rate in
            RedisGCRAScript.Limit(key: "rl:\(identity):\(rate.kind.rawValue)", limit: rate.gcra.limit,
                                  periodMicroseconds: rate.gcra.periodMicroseconds, cost: rate.kind.cost(tokens: tokens))
        })
        let reply = try await RedisGCRAScript.decide.run(on: client, keys: call.keys, arguments: call.arguments, timeout: .seconds(2)).get()
        let outcomes = try RedisGCRAScript.outcomes(reply, count: rates.count)
        return RateLimitStatus.combine(zip(rates, outcomes).map { rate, outcome in
            (rate.kind, rate.gcra, GCRA.Result(allowed: outcome.allowed, tat: outcome.tat, remaining: outcome.remaining,
                                               resetMicroseconds: outcome.resetMicroseconds, retryAfterMicroseconds: outcome.retryAfterMicroseconds))
        })
    }

    @Test func theScriptDecidesLikeTheLocalLimiterOnTheSameTrace() async throws {
        try await withRedisServer { server in
            let client = try await makeClient(server)
            defer { _ = client.shutdown() }
            let limits = RateLimits(requestsPerSecond: 5, requestsPerMinute: 40, tokensPerMinute: 3000)
            var local = RateLimiter()
            var walk = Walk(state: 42)
            var now: Int64 = 1_700_000_000_000_000
            var allowed = 0
            var deniedKinds = Set<RateLimitKind>()
            for step in 0..<400 {
                now += Int64(walk.next(4) == 0 ? walk.next(3_000_000) : walk.next(150_000))
                let tokens = Int(walk.next(10) == 0 ? walk.next(2500) : walk.next(30))
                let expected = local.admitRates(identity: "u", limits: limits, tokens: tokens, now: now)
                let actual = try await scriptDecision(client, identity: "u", limits: limits, tokens: tokens, now: now)
                #expect(actual == expected, "step \(step)")
                if expected.isAllowed { allowed += 1 }
                if case .denied(let kind, _, _) = expected { deniedKinds.insert(kind) }
                if expected != actual { break }
            }
            // The trace exercised every limit both ways.
            #expect(allowed > 50 && allowed < 390)
            #expect(deniedKinds == [.requestsPerSecond, .requestsPerMinute, .tokensPerMinute])
        }
    }

    @Test func theCorrectionScriptMovesTheTATLikeGCRACorrected() async throws {
        try await withRedisServer { server in
            let client = try await makeClient(server)
            defer { _ = client.shutdown() }
            let gcra = GCRA(limit: 1000, periodMicroseconds: 60_000_000)
            let now: Int64 = 1_700_000_000_000_000
            for (stored, delta) in [(now + 9_000_000, 50), (now + 9_000_000, -50), (now + 9_000_000, -900), (now - 5, 30)] {
                _ = try await client.send(.set("rl:c", value: ByteBuffer(string: String(stored)))).get()
                _ = try await RedisGCRAScript.correct.run(on: client, keys: ["rl:c"], arguments: [String(now), String(gcra.emissionInterval), String(delta)],
                                                          timeout: .seconds(2)).get()
                let value = try await client.get("rl:c").get().map { String(buffer: $0) }.flatMap { Int64($0) }
                let expected = gcra.corrected(tat: stored, delta: delta, now: now)
                // A TAT at now means the limit is whole: its key may already have expired (PX 1).
                #expect(value == expected || (value == nil && (expected ?? now) <= now), "\(stored) \(delta): \(String(describing: value))")
            }
        }
    }

    @Test func evalshaAfterTheFirstCallAndEvalAgainAfterAScriptFlush() async throws {
        try await withRedisServer { server in
            let client = try await makeClient(server)
            defer { _ = client.shutdown() }
            let script = RedisScript(source: "return tonumber(ARGV[1]) + 1")
            #expect(try await script.run(on: client, keys: [], arguments: ["1"], timeout: .seconds(2)).get() == .integer(2))
            #expect(await eventually { script.knownSHA != nil })
            #expect(try await script.run(on: client, keys: [], arguments: ["2"], timeout: .seconds(2)).get() == .integer(3))
            _ = try await client.send(RedisCommand("SCRIPT", "FLUSH")).get()
            // NOSCRIPT: the call falls back to EVAL and still answers.
            #expect(try await script.run(on: client, keys: [], arguments: ["3"], timeout: .seconds(2)).get() == .integer(4))
            let cached = try await client.send(RedisCommand("SCRIPT", "EXISTS", script.knownSHA ?? "")).get()
            #expect(cached == .array([.integer(1)]))
        }
    }
}
