import Foundation
import Testing

/// The Redis side of `/metrics` with a real `redis-server`: command latency and results while
/// it answers, `llm_redis_up` and the error counters once it is killed.
@Suite(.serialized) struct RedisMetricsE2ETests {
    @Test func redisCommandsHealthAndErrorsAreExported() async throws {
        try await withRedisTestBed { bed in
            let proxy = try await bed.startProxy(memory: false, lookupTimeout: "300ms", breakerFailures: 2, probeInterval: "10s")
            let url = proxy.url("/v1/chat/completions")
            let headers = [("x-team", "metrics"), ("content-type", "application/json")]
            let body = MetricsE2ETests.chat("redis metrics \(UUID().uuidString)")
            _ = try await TestHTTP.send(.POST, url, headers: headers, body: body)
            // The store is fire-and-forget: wait for it before asking again.
            var samples = try await MetricsE2ETests.scrape(proxy)
            for _ in 0 ..< 50 where samples.value("llm_cache_operations_total", ["op": "set", "backend": "redis", "result": "stored"]) < 1 {
                try await Task.sleep(for: .milliseconds(50))
                samples = try await MetricsE2ETests.scrape(proxy)
            }
            let hit = try await TestHTTP.send(.POST, url, headers: headers, body: body)
            #expect(hit.headers.first(name: "x-cache") == "HIT")
            samples = try await MetricsE2ETests.scrape(proxy)
            #expect(samples.value("llm_redis_up") == 1)
            #expect(samples.value("llm_cache_operations_total", ["op": "get", "backend": "redis", "result": "miss"]) == 1)
            #expect(samples.value("llm_cache_operations_total", ["op": "get", "backend": "redis", "result": "hit"]) == 1)
            #expect(samples.value("llm_redis_command_duration_seconds_count", ["command": "get"]) == 2)
            #expect(samples.value("llm_redis_command_duration_seconds_count", ["command": "set"]) == 1)

            await bed.redis.kill()
            for index in 0 ..< 4 {
                let answer = try await TestHTTP.send(.POST, url, headers: headers, body: MetricsE2ETests.chat("down \(index) \(UUID().uuidString)"))
                #expect(answer.status == 200, "Redis down must not fail a request")
            }
            samples = try await MetricsE2ETests.scrape(proxy)
            #expect(samples.value("llm_redis_up") == 0, "the breaker opened")
            let errors = samples.value("llm_redis_errors_total", ["kind": "connection"]) + samples.value("llm_redis_errors_total", ["kind": "timeout"])
            #expect(errors >= 2)
            #expect(samples.value("llm_redis_errors_total", ["kind": "breaker_open"]) >= 1)
            #expect(samples.value("llm_cache_operations_total", ["backend": "redis", "result": "error"]) >= 2)
        }
    }
}
