import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import RepriseCore
import RepriseRedis
import Testing
@testable import RepriseProxy

/// The pieces of metrics and the access log that need no socket: label bounds, the metric
/// updates of a finished request, the JSON line and the request id.
@Suite struct ObservabilityTests {
    func record(model: String?, cache: CacheStatus, status: Int, latencyMs: Int64, upstreamMs: Int64?) -> (RequestRecord, NIODeadline) {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var record = RequestRecord(requestID: .client("id-1"), method: .POST, path: "/v1/chat/completions", receivedAt: start)
        record.model = model
        record.cache = cache
        record.status = status
        record.firstByteAt = start + .milliseconds(1)
        if let upstreamMs {
            record.upstreamStartedAt = start + .milliseconds(1)
            record.upstreamEndedAt = start + .milliseconds(1 + upstreamMs)
        }
        record.usage = CacheEntry.Usage(promptTokens: 10, completionTokens: 5, totalTokens: 15)
        return (record, start + .milliseconds(latencyMs))
    }

    func exposition(_ metrics: ProxyMetrics) -> String {
        String(buffer: metrics.exposition(sources: ScrapeSources(memory: nil, breakers: [], redisBreaker: nil, redisCounters: nil)))
    }

    @Test func aFinishedRequestMovesItsSeriesAndOverheadExcludesTheUpstream() {
        var config = MetricsConfig()
        config.models = ["deepseek-chat"]
        let metrics = ProxyMetrics(config: config, version: "test")
        metrics.requestStarted(route: "default")
        let (miss, end) = record(model: "deepseek-chat", cache: .miss, status: 200, latencyMs: 100, upstreamMs: 90)
        metrics.requestFinished(miss, end: end, startedRoute: "default")
        let (other, otherEnd) = record(model: "made-up-\(UUID().uuidString)", cache: .hit, status: 200, latencyMs: 1, upstreamMs: nil)
        metrics.requestFinished(other, end: otherEnd)
        let text = exposition(metrics)
        #expect(text.contains(#"llm_requests_total{route="default",model="deepseek-chat",variant="primary",status="200",cache="miss"} 1"#))
        #expect(text.contains(#"llm_requests_total{route="default",model="other",variant="primary",status="200",cache="hit"} 1"#))
        #expect(!text.contains("made-up"))
        #expect(text.contains(#"llm_tokens_total{model="other",variant="primary",type="prompt",cache="hit"} 10"#))
        #expect(text.contains(#"llm_active_requests{route="default"} 0.0"#))
        // 100 ms in all, 90 of them upstream: 10 ms inside Reprise.
        #expect(text.contains(#"llm_proxy_overhead_seconds_sum{route="default",cache="miss"} 0.01"#))
        #expect(text.contains(#"llm_latency_seconds_bucket{route="default",cache="miss",variant="primary",le="0.1"} 1"#))
        #expect(text.contains(#"llm_latency_seconds_bucket{route="default",cache="miss",variant="primary",le="0.05"} 0"#))
    }

    @Test func shardsOfEveryLoopAddUpAtScrapeTime() throws {
        let metrics = ProxyMetrics(config: MetricsConfig(), version: "test")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let loops = Array(group.makeIterator())
        let first = metrics.requestShard(for: loops[0]), second = metrics.requestShard(for: loops[1])
        #expect(first !== second)
        #expect(metrics.requestShard(for: loops[0]) === first)
        // One hit per loop, 1 ms each; a third request still in progress on the second loop.
        for shard in [first, second] {
            metrics.requestStarted(route: "default", shard: shard)
            let (hit, end) = record(model: nil, cache: .hit, status: 200, latencyMs: 1, upstreamMs: nil)
            metrics.requestFinished(hit, end: end, startedRoute: "default", shard: shard)
        }
        metrics.requestStarted(route: "default", shard: second)
        let text = exposition(metrics)
        #expect(text.contains(#"llm_requests_total{route="default",model="none",variant="primary",status="200",cache="hit"} 2"#))
        #expect(text.contains(#"llm_active_requests{route="default"} 1.0"#))
        // Buckets are "less than or equal": 1 ms lands in le="0.001", not above it.
        #expect(text.contains(#"llm_latency_seconds_bucket{route="default",cache="hit",variant="primary",le="0.0005"} 0"#))
        #expect(text.contains(#"llm_latency_seconds_bucket{route="default",cache="hit",variant="primary",le="0.001"} 2"#))
        #expect(text.contains(#"llm_latency_seconds_bucket{route="default",cache="hit",variant="primary",le="+Inf"} 2"#))
        #expect(text.contains(#"llm_latency_seconds_count{route="default",cache="hit",variant="primary"} 2"#))
        #expect(text.contains(#"llm_latency_seconds_sum{route="default",cache="hit",variant="primary"} 0.002"#))
        #expect(text.contains(#"llm_tokens_total{model="none",variant="primary",type="completion",cache="hit"} 10"#))
        // Each family is declared once, with its type.
        #expect(text.components(separatedBy: "# TYPE llm_latency_seconds histogram\n").count == 2)
        #expect(text.components(separatedBy: "# TYPE llm_requests_total counter\n").count == 2)
    }

    @Test func hostileUsagePinsTheTokenCounterInsteadOfTrapping() {
        let metrics = ProxyMetrics(config: MetricsConfig(), version: "test")
        for _ in 0 ..< 3 {
            var (hit, end) = record(model: nil, cache: .hit, status: 200, latencyMs: 1, upstreamMs: nil)
            hit.usage = CacheEntry.Usage(promptTokens: .max, completionTokens: -5, totalTokens: .max)
            metrics.requestFinished(hit, end: end)
        }
        let text = exposition(metrics)
        #expect(text.contains(#"llm_tokens_total{model="none",variant="primary",type="prompt",cache="hit"} \#(Int.max)"#))
        #expect(text.contains(#"llm_tokens_total{model="none",variant="primary",type="completion",cache="hit"} 0"#))
    }

    @Test func scrapeTimeSourcesBecomeCountersThatOnlyGoUp() {
        let metrics = ProxyMetrics(config: MetricsConfig(), version: "test")
        func scrape(evictions: Int, expirations: Int) -> String {
            String(buffer: metrics.exposition(sources: ScrapeSources(
                memory: MemoryCacheStats(count: 3, bytes: 300, evictions: evictions, expirations: expirations),
                breakers: [("default", .open)], redisBreaker: nil, redisCounters: nil)))
        }
        _ = scrape(evictions: 4, expirations: 1)
        let text = scrape(evictions: 6, expirations: 1)
        #expect(text.contains(#"llm_cache_evictions_total{reason="capacity"} 6"#))
        #expect(text.contains(#"llm_cache_evictions_total{reason="expired"} 1"#))
        #expect(text.contains("llm_cache_memory_entries 3.0"))
        #expect(text.contains(#"llm_circuit_breaker_state{upstream="default"} 2.0"#))
    }

    @Test func modelLabelsAreBounded() {
        let labels = ModelLabels(configured: ["a", "b"])
        #expect(labels.values == ["a", "b", "other", "none"])
        #expect(labels.index(of: "b") == 1)
        #expect(labels.values[labels.index(of: "zzz")] == "other")
        #expect(labels.values[labels.index(of: nil)] == "none")
    }

    @Test func accessLineIsJSONWithoutBodiesUnlessAsked() throws {
        var (entry, end) = record(model: "m\"odel\u{1}", cache: .miss, status: 200, latencyMs: 20, upstreamMs: 15)
        entry.loggedBody = ByteBuffer(string: #"{"messages":"secret prompt"}"#)
        let line = AccessLog.line(for: entry, end: end, answerTail: nil, includeBodies: false)
        #expect(line.last == UInt8(ascii: "\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        #expect(object["model"] as? String == "m\"odel\u{1}")
        #expect(object["latency_ms"] as? Double == 20)
        #expect(object["overhead_ms"] as? Double == 5)
        #expect(object["upstream_ms"] as? Double == 15)
        #expect(object["level"] as? String == "info")
        #expect(object["request_body"] == nil)
        let debug = AccessLog.line(for: entry, end: end, answerTail: Array("tail \u{7f}".utf8), includeBodies: true)
        let withBodies = try #require(try JSONSerialization.jsonObject(with: Data(debug)) as? [String: Any])
        #expect(withBodies["request_body"] as? String == #"{"messages":"secret prompt"}"#)
        #expect(withBodies["answer_tail"] as? String == "tail \u{7f}")
        #expect(withBodies["level"] as? String == "debug")
    }

    @Test func accessLogBuffersUntilFlushed() {
        let written = CollectedOutput()
        let log = AccessLog(includeBodies: false) { bytes in written.append(bytes) }
        let (entry, end) = record(model: nil, cache: .bypass, status: 404, latencyMs: 1, upstreamMs: 1)
        log.log(entry, end: end, answerTail: nil)
        log.log(entry, end: end, answerTail: nil)
        log.waitUntilWritten()
        #expect(written.lines == 0, "written before a flush")
        log.flush()
        log.waitUntilWritten()
        #expect(written.lines == 2)
    }

    @Test func requestIDsFromClientsAreKeptOnlyWhenSane() {
        #expect(RequestID.of(ParsedHeads.headers(["X-Request-ID": "abc-123_XYZ.:/+="])) == .client("abc-123_XYZ.:/+="))
        let made = RequestID.of(ParsedHeads.headers(["x-request-id": "has space"]))
        #expect(made.text != "has space" && RequestID.isAcceptable(made.text))
        #expect(RequestID.of(ParsedHeads.headers(["x-request-id": String(repeating: "a", count: 129)])).text.count < 129)
        #expect(RequestID.of(ParsedHeads.headers(["host": "x"])) != RequestID.of(ParsedHeads.headers(["host": "x"])), "none sent: one made")
        #expect(RequestID.make() != RequestID.make())
    }

    @Test func aMadeIDIsWrittenAsItsText() {
        for id in [RequestID.make(), .generated(0), .generated(UInt64.max), .client("abc")] {
            var buffer = ByteBuffer()
            buffer.writeRaw(maximum: 33) { id.write(into: &$0) }
            #expect(String(buffer: buffer) == id.text)
        }
        #expect(RequestID.generated(0xBEEF).text.hasSuffix("-beef"))
    }
}

/// Collects what an `AccessLog` writes (its output runs on the log's own queue).
final class CollectedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []

    func append(_ more: [UInt8]) { lock.withLock { bytes += more } }
    var lines: Int { lock.withLock { bytes.filter { $0 == UInt8(ascii: "\n") }.count } }
}
