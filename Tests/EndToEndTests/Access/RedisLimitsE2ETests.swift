import Foundation
import NIOConcurrencyHelpers
import Testing

/// `limits.backend: redis`: one count for the fleet, and the local count when Redis is gone.
@Suite(.serialized) struct RedisLimitsE2ETests {
    static func limits(_ body: String) -> String {
        "limits:\n  backend: redis\n  redis_timeout: 500ms\n" + body
    }

    @Test func twoProcessesShareOneLimit() async throws {
        try await withRedisTestBed { bed in
            let a = try await bed.startProxy(extraYAML: Self.limits("  requests_per_minute: 4\n"))
            let b = try await bed.startProxy(extraYAML: Self.limits("  requests_per_minute: 4\n"))
            var statuses: [Int] = []
            for index in 0..<8 {
                statuses.append(try await Chat.ask(index % 2 == 0 ? a : b, Chat.freshQuestion("fleet")).status)
            }
            // Four in the minute for the fleet, not four per process.
            #expect(statuses == [200, 200, 200, 200, 429, 429, 429, 429], "\(statuses)")
            #expect(try await bed.upstreamCalls() == 4)
            // The TATs are in Redis under the identity (a credential hash), never a credential.
            let keys = try await bed.redis.keys("reprise:rl:*")
            #expect(keys.count == 1 && keys[0].hasSuffix(":requests_per_minute"), "\(keys)")
            #expect(!keys.contains { $0.contains("sk-e2e") })
        }
    }

    @Test func redisKilledDuringLoadFailsNoRequest() async throws {
        try await withRedisTestBed { bed in
            let proxy = try await bed.startProxy(extraYAML: Self.limits("  requests_per_second: 100000\n  tokens_per_minute: 100000000\n"))
            let total = 120
            let completed = NIOLockedValueBox(0)
            let (statuses, completedAtKill) = try await withThrowingTaskGroup(of: [Int].self) { group in
                for worker in 0..<6 {
                    group.addTask {
                        var statuses: [Int] = []
                        for _ in stride(from: worker, to: total, by: 6) {
                            statuses.append((try? await Chat.ask(proxy, Chat.freshQuestion("load")).status) ?? -1)
                            completed.withLockedValue { $0 += 1 }
                        }
                        return statuses
                    }
                }
                let deadline = ContinuousClock.now + .seconds(120)
                while completed.withLockedValue({ $0 }) < total / 3, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                // Redis was deciding (the TAT keys of such generous limits expire at once).
                #expect(try await bed.redis.cli(["INFO", "commandstats"]).contains("cmdstat_evalsha"))
                await bed.redis.kill()
                let atKill = completed.withLockedValue { $0 }
                return (try await group.reduce(into: []) { $0 += $1 }, atKill)
            }
            #expect(completedAtKill < total)
            #expect(statuses.count == total)
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses.filter { $0 != 200 })")
        }
    }

    @Test func withoutRedisTheLocalLimitHolds() async throws {
        try await withRedisTestBed { bed in
            let proxy = try await bed.startProxy(extraYAML: Self.limits("  requests_per_minute: 5\n"))
            for _ in 0..<3 { #expect(try await Chat.ask(proxy, Chat.freshQuestion("before")).status == 200) }
            await bed.redis.kill()
            // Redis counted those three; the local limiter starts from its own count: five more,
            // then 429, and never an error.
            var statuses: [Int] = []
            for _ in 0..<8 { statuses.append(try await Chat.ask(proxy, Chat.freshQuestion("after")).status) }
            #expect(statuses == [200, 200, 200, 200, 200, 429, 429, 429], "\(statuses)")
        }
    }
}
