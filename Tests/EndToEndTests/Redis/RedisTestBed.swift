import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import Testing

/// Everything one Redis end-to-end test runs: the mock upstream (whose request counter proves
/// when the upstream was called), one real `redis-server`, and any number of `reprise`
/// processes sharing it. `withRedisTestBed` stops all of them, also when the test throws.
final class RedisTestBed: Sendable {
    static let adminToken = "redis-e2e-admin-token-0123456789"

    let mock: MockUpstream
    let redis: RedisServer
    private let proxies = NIOLockedValueBox<[RepriseProcess]>([])

    init(mock: MockUpstream, redis: RedisServer) {
        self.mock = mock
        self.redis = redis
    }

    /// Starts a `reprise` with Redis as L2. Namespaces come from the `X-Team` header, so tests
    /// know the Redis key prefix of each answer (`reprise:v1:<team>:`). The lookup timeout is
    /// generous by default: on a loaded machine a 50 ms timeout would turn hits into misses.
    func startProxy(
        memory: Bool = true,
        lookupTimeout: String = "2s",
        ttl: String = "10m",
        breakerFailures: Int = 3,
        probeInterval: String = "200ms",
        extraYAML: String = ""
    ) async throws -> RepriseProcess {
        let yaml = """
            admin:
              token: \(Self.adminToken)
            cache:
              namespace: header:x-team
              ttl: \(ttl)
              memory:
                enabled: \(memory)
              redis:
                url: \(redis.url)
                lookup_timeout: \(lookupTimeout)
                breaker_failures: \(breakerFailures)
                breaker_probe_interval: \(probeInterval)

            """ + extraYAML
        let proxy = try await RepriseProcess.start(upstream: mock.baseURL, yaml: yaml)
        proxies.withLockedValue { $0.append(proxy) }
        return proxy
    }

    /// Stops one proxy now (its L1 dies with it).
    func stopProxy(_ proxy: RepriseProcess) async {
        await proxy.stop()
    }

    func upstreamCalls() async throws -> Int {
        try await mock.stats().requests
    }

    /// Every proxy's stderr, for failure reports.
    var proxyLogs: String {
        proxies.withLockedValue { $0 }.enumerated().map { index, proxy in
            "--- reprise #\(index) (port \(proxy.port)) stderr ---\n\(proxy.process.stderr)"
        }.joined(separator: "\n")
    }

    func shutdown() async {
        for proxy in proxies.withLockedValue({ $0 }) {
            await proxy.stop()
        }
        await redis.stop()
        await mock.stop()
    }
}

/// Runs `body` with a mock upstream and a Redis server (started unless `redisRunning` is false:
/// then `bed.redis.launch()` starts it later on its reserved port).
func withRedisTestBed(redisRunning: Bool = true, _ body: (RedisTestBed) async throws -> Void) async throws {
    let mock = try await MockUpstream.start()
    let redis: RedisServer
    do {
        redis = redisRunning ? try await RedisServer.start() : try RedisServer.notStarted()
    } catch {
        await mock.stop()
        throw error
    }
    let bed = RedisTestBed(mock: mock, redis: redis)
    do {
        try await body(bed)
    } catch {
        Issue.record("proxy logs:\n\(bed.proxyLogs)")
        await bed.shutdown()
        throw error
    }
    await bed.shutdown()
}

/// Chat requests as a client sends them.
enum Chat {
    /// A request body asking `question` (letters, digits and spaces only: no JSON escaping).
    static func body(_ question: String, stream: Bool = false) -> String {
        #"{"model":"deepseek-chat","stream":\#(stream),"messages":[{"role":"user","content":"\#(question)"}]}"#
    }

    /// A question nobody asked before.
    static func freshQuestion(_ label: String = "q") -> String {
        "\(label) \(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
    }

    static func ask(
        _ proxy: RepriseProcess,
        _ question: String,
        stream: Bool = false,
        team: String = "red",
        headers: [(String, String)] = [],
        timeout: Duration = .seconds(30)
    ) async throws -> TestHTTPResponse {
        try await TestHTTP.send(
            .POST, proxy.url("/v1/chat/completions"),
            headers: [("Authorization", "Bearer sk-e2e"), ("X-Team", team)] + headers,
            body: body(question, stream: stream),
            timeout: timeout
        )
    }

    /// `DELETE /admin/cache[?namespace=NS]`.
    static func purge(_ proxy: RepriseProcess, namespace: String? = nil) async throws -> TestHTTPResponse {
        let query = namespace.map { "?namespace=\($0)" } ?? ""
        return try await TestHTTP.send(
            .DELETE, proxy.url("/admin/cache" + query),
            headers: [("Authorization", "Bearer \(RedisTestBed.adminToken)")]
        )
    }
}

extension TestHTTPResponse {
    /// `X-Cache`: HIT, MISS or BYPASS.
    var cacheStatus: String? { headers.first(name: "x-cache") }
}
