import Foundation
import NIOHTTP1
import Testing

/// `/metrics` and the access log against the real binary and the mock upstream: the counters
/// move as they should for a miss, a hit, a bypass, a coalesced request, an upstream error and a
/// stream; tokens are counted from usage, saved ones under `cache="hit"`; nothing secret or
/// unbounded reaches a label or a log line.
@Suite(.serialized) struct MetricsE2ETests {
    static let credential = "sk-metrics-secret-0123456789"
    static let headers = [("authorization", "Bearer \(credential)"), ("content-type", "application/json")]

    static func chat(_ question: String, model: String = "deepseek-chat", stream: Bool = false) -> String {
        #"{"model":"\#(model)","temperature":0,"stream":\#(stream),"messages":[{"role":"user","content":"\#(question)"}]}"#
    }

    static func scrape(_ proxy: RepriseProcess, path: String = "/metrics") async throws -> [PrometheusSample] {
        let response = try await TestHTTP.send(.GET, proxy.url(path))
        #expect(response.status == 200)
        #expect(response.headers.first(name: "content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        return PrometheusSample.parse(response.text)
    }

    @Test func countersMoveForMissHitBypassAndUpstreamError() async throws {
        try await withMockAndReprise { _, proxy in
            let url = proxy.url("/v1/chat/completions")
            let question = "metrics \(UUID().uuidString)"
            let miss = try await TestHTTP.send(.POST, url, headers: Self.headers, body: Self.chat(question))
            let hit = try await TestHTTP.send(.POST, url, headers: Self.headers, body: Self.chat(question))
            #expect(miss.headers.first(name: "x-cache") == "MISS")
            #expect(hit.headers.first(name: "x-cache") == "HIT")
            let bypass = try await TestHTTP.send(.POST, url, headers: Self.headers + [("cache-control", "no-store, no-cache")],
                                                 body: Self.chat("bypass \(UUID().uuidString)", model: "invented-model-\(UUID().uuidString)"))
            #expect(bypass.headers.first(name: "x-cache") == "BYPASS")
            let failed = try await TestHTTP.send(.POST, url, headers: Self.headers + [("x-mock-status", "400")],
                                                 body: Self.chat("error \(UUID().uuidString)", model: "gpt-4o"))
            #expect(failed.status == 400)

            let samples = try await Self.scrape(proxy)
            let chat = ["route": "default", "variant": "primary", "model": "deepseek-chat"]
            #expect(samples.value("llm_requests_total", chat.merging(["status": "200", "cache": "miss"]) { $1 }) == 1)
            #expect(samples.value("llm_requests_total", chat.merging(["status": "200", "cache": "hit"]) { $1 }) == 1)
            // A model a client invents is `other`: labels stay bounded.
            #expect(samples.value("llm_requests_total", ["model": "other", "cache": "bypass", "status": "200"]) == 1)
            #expect(!samples.contains { $0.labels["model"]?.hasPrefix("invented-model") == true })
            #expect(samples.value("llm_requests_total", ["model": "gpt-4o", "status": "400", "cache": "miss"]) == 1)
            // Tokens from usage: the hit's are the miss's, saved.
            let prompt = samples.value("llm_tokens_total", ["model": "deepseek-chat", "type": "prompt", "cache": "miss"])
            #expect(prompt > 0)
            #expect(samples.value("llm_tokens_total", ["model": "deepseek-chat", "type": "prompt", "cache": "hit"]) == prompt)
            #expect(samples.value("llm_tokens_total", ["model": "deepseek-chat", "type": "completion", "cache": "hit"]) > 0)
            // Latency, first byte and overhead per cache result.
            #expect(samples.value("llm_latency_seconds_count", ["cache": "hit"]) == 1)
            #expect(samples.value("llm_latency_seconds_count", ["cache": "miss"]) == 2)
            #expect(samples.value("llm_time_to_first_byte_seconds_count", ["cache": "miss"]) == 2)
            #expect(samples.value("llm_proxy_overhead_seconds_count", ["cache": "bypass"]) == 1)
            let missLatency = samples.value("llm_latency_seconds_sum", ["cache": "miss"])
            let missOverhead = samples.value("llm_proxy_overhead_seconds_sum", ["cache": "miss"])
            #expect(missOverhead > 0 && missOverhead < missLatency, "overhead excludes the upstream's time")
            // Upstream: three attempts answered, one 400; the cache's own operations.
            #expect(samples.value("llm_upstream_attempts_total", ["upstream": "default", "outcome": "response"]) == 3)
            #expect(samples.value("llm_upstream_responses_total", ["upstream": "default", "status": "400"]) == 1)
            #expect(samples.value("llm_upstream_retries_total") == 0)
            #expect(samples.value("llm_cache_operations_total", ["op": "get", "backend": "memory", "result": "hit"]) == 1)
            #expect(samples.value("llm_cache_operations_total", ["op": "set", "backend": "memory", "result": "stored"]) == 1)
            #expect(samples.value("llm_cache_memory_entries") == 1)
            #expect(samples.value("llm_cache_memory_bytes") > 0)
            #expect(samples.value("llm_circuit_breaker_state", ["upstream": "default"]) == 0)
            #expect(!samples.contains { $0.name == "llm_redis_up" }, "no Redis configured: absent, not 0")
            // Nothing is in progress: the scrape does not count itself.
            #expect(samples.value("llm_active_requests", ["route": "default"]) == 0)
            #expect(samples.contains { $0.name == "llm_active_requests" })
            #expect(samples.value("reprise_build_info") == 1)
            // /metrics and health checks are not requests of the API.
            _ = try await TestHTTP.send(.GET, proxy.url("/healthz"))
            let again = try await Self.scrape(proxy)
            #expect(again.value("llm_requests_total") == samples.value("llm_requests_total"))
        }
    }

    @Test func streamsCountTokensAndTimeToFirstByteAndCoalescedFollowersAreCounted() async throws {
        try await withMockAndReprise(mockArguments: ["--realistic"]) { mock, proxy in
            let url = proxy.url("/v1/chat/completions")
            let body = #"{"model":"deepseek-chat","temperature":0,"stream":true,"stream_options":{"include_usage":true},"#
                + #""messages":[{"role":"user","content":"stream \#(UUID().uuidString)"}]}"#
            // Long enough that the follower arrives while the leader waits, on a loaded machine too.
            let slow = Self.headers + [("x-mock-latency-ms", "1500")]
            async let leader = TestHTTP.send(.POST, url, headers: slow, body: body)
            _ = try await mock.waitForStats(timeout: .seconds(10)) { $0.requests >= 1 }
            async let follower = TestHTTP.send(.POST, url, headers: slow, body: body)
            let (led, followed) = try await (leader, follower)
            #expect(led.headers.first(name: "x-cache") == "MISS")
            #expect(followed.headers.first(name: "x-cache") == "COALESCED")
            #expect(led.text.contains("[DONE]") && followed.text.contains("[DONE]"))

            let samples = try await Self.scrape(proxy)
            #expect(samples.value("llm_requests_total", ["cache": "coalesced", "status": "200"]) == 1)
            #expect(samples.value("llm_coalesced_requests_total", ["route": "default"]) == 1)
            // With `include_usage` the stream's last chunk carries usage.
            #expect(samples.value("llm_tokens_total", ["type": "completion", "cache": "miss"]) > 0)
            #expect(samples.value("llm_tokens_total", ["type": "completion", "cache": "coalesced"]) > 0)
            #expect(samples.value("llm_time_to_first_byte_seconds_count", ["cache": "miss"]) == 1)
            // The follower waited on the flight: that wait is not Reprise's overhead.
            let followerLatency = samples.value("llm_latency_seconds_sum", ["cache": "coalesced"])
            #expect(followerLatency >= 0.3)
            #expect(samples.value("llm_proxy_overhead_seconds_sum", ["cache": "coalesced"]) < followerLatency / 2)
        }
    }

    @Test func retriesAndFailedAttemptsAreCountedByOutcome() async throws {
        try await withMockAndReprise(yaml: "upstream:\n  retry:\n    max_attempts: 3\n    base_delay: 10ms\n") { _, proxy in
            let response = try await TestHTTP.send(.POST, proxy.url("/v1/chat/completions"), headers: Self.headers + [("x-mock-fail-times", "2")],
                                                   body: Self.chat("retry \(UUID().uuidString)"))
            #expect(response.status == 200)
            #expect(response.headers.first(name: "x-reprise-attempts") == "3")
            let samples = try await Self.scrape(proxy)
            #expect(samples.value("llm_upstream_attempts_total", ["outcome": "response"]) == 3)
            #expect(samples.value("llm_upstream_retries_total", ["upstream": "default"]) == 2)
            #expect(samples.value("llm_upstream_responses_total", ["status": "200"]) == 1)
        }
    }

    @Test func accessLogHasOneLinePerRequestWithItsIDAndNoSecret() async throws {
        try await withMockAndReprise { _, proxy in
            let url = proxy.url("/v1/chat/completions?api-key=query-secret-value")
            let response = try await TestHTTP.send(.POST, url, headers: Self.headers + [("x-request-id", "client-id-42"), ("api-key", "header-secret-value")],
                                                   body: Self.chat("log \(UUID().uuidString)"))
            #expect(response.headers.first(name: "x-request-id") == "client-id-42")
            let generated = try await TestHTTP.send(.POST, url, headers: Self.headers + [("x-request-id", "bad id with spaces")],
                                                    body: Self.chat("log \(UUID().uuidString)"))
            let madeHere = try #require(generated.headers.first(name: "x-request-id"))
            #expect(madeHere != "bad id with spaces")

            let lines = try await Self.accessLines(proxy, count: 2)
            let first = try #require(lines.first { $0["request_id"] as? String == "client-id-42" })
            #expect(first["logger"] as? String == "reprise.access")
            #expect(first["method"] as? String == "POST")
            #expect(first["path"] as? String == "/v1/chat/completions")
            #expect(first["status"] as? Int == 200)
            #expect(first["cache"] as? String == "miss")
            #expect(first["model"] as? String == "deepseek-chat")
            #expect(first["attempts"] as? Int == 1)
            #expect((first["prompt_tokens"] as? Int ?? 0) > 0)
            #expect(first["upstream_request_id"] is String)
            for key in ["latency_ms", "ttfb_ms", "overhead_ms", "upstream_ms"] { #expect(first[key] is Double || first[key] is Int, "\(key)") }
            #expect(lines.contains { $0["request_id"] as? String == madeHere })
            let stderr = proxy.process.stderr
            for secret in [Self.credential, "header-secret-value", "query-secret-value", "messages"] {
                #expect(!stderr.contains(secret), "the log shows \(secret)")
            }
        }
    }

    @Test func bodiesAreLoggedOnlyWhenAskedAndStartUpWarns() async throws {
        try await withMockAndReprise(yaml: "logging:\n  level: debug\n  log_bodies: true\n") { _, proxy in
            let question = "logged prompt \(UUID().uuidString)"
            _ = try await TestHTTP.send(.POST, proxy.url("/v1/chat/completions"), headers: Self.headers, body: Self.chat(question))
            let lines = try await Self.accessLines(proxy, count: 1)
            #expect((lines.first?["request_body"] as? String)?.contains(question) == true)
            #expect(lines.first?["answer_tail"] is String)
            #expect(proxy.process.stderr.contains("log_bodies is on"))
            #expect(!proxy.process.stderr.contains(Self.credential))
        }
    }

    @Test func metricsOnTheirOwnListenerOnly() async throws {
        let port = try unusedPort()
        try await withMockAndReprise(yaml: "metrics:\n  listen: 127.0.0.1:\(port)\n") { _, proxy in
            _ = try await proxy.process.waitForOutput(matching: "listening on metrics://127.0.0.1:\(port)")
            let onMain = try await TestHTTP.send(.GET, proxy.url("/metrics"))
            #expect(onMain.status != 200 || !onMain.text.contains("llm_requests_total"))
            let scraped = try await TestHTTP.send(.GET, "http://127.0.0.1:\(port)/metrics")
            #expect(scraped.status == 200 && scraped.text.contains("llm_active_requests"))
            #expect(try await TestHTTP.send(.GET, "http://127.0.0.1:\(port)/healthz").status == 200)
            let other = try await TestHTTP.send(.POST, "http://127.0.0.1:\(port)/v1/chat/completions", headers: Self.headers, body: Self.chat("no"))
            #expect(other.status == 404)
            #expect(try other.json()["error"] is [String: Any])
        }
    }

    @Test func invalidMetricsSettingsNameTheirKey() async throws {
        for (yaml, key) in [("metrics:\n  path: metrics\n", "metrics.path"), ("metrics:\n  models: [other]\n", "metrics.models"),
                            ("metrics:\n  path: /healthz\n", "metrics.path"), ("logging:\n  access_log: maybe\n", "logging.access_log")] {
            let (code, stderr) = try await CheckConfigRun.run(yaml: yaml)
            #expect(code == 78, "\(yaml): exit \(code)")
            #expect(stderr.contains(key), "\(yaml): \(stderr)")
        }
    }

    /// The access lines on stderr once `count` of them arrived (they are flushed every 200 ms).
    static func accessLines(_ proxy: RepriseProcess, count: Int) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let lines = proxy.process.stderr.split(separator: "\n").compactMap { line -> [String: Any]? in
                guard line.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      object["logger"] as? String == "reprise.access" else { return nil }
                return object
            }
            if lines.count >= count || ContinuousClock.now > deadline { return lines }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
