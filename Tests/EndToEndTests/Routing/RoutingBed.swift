import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import Testing

/// Two mock upstreams (`stable` is `upstream:`, `canary` is `upstreams.canary`) and the
/// `reprise` processes of one routing test; `withRoutingBed` stops them all, also on a throw.
final class RoutingBed: Sendable {
    static let adminToken = "routing-e2e-admin-token-0123456789"
    static let testerKey = "sk-routing-tester"

    let stable: MockUpstream
    let canary: MockUpstream
    private let proxies = NIOLockedValueBox<[RepriseProcess]>([])

    init(stable: MockUpstream, canary: MockUpstream) {
        self.stable = stable
        self.canary = canary
    }

    /// A configuration routing `/v1/chat/completions` (model deepseek-chat) to `stable` and
    /// `canary` by weight, sticky by `X-User-Id`; `extra` is appended under `routing:`'s route.
    func yaml(canaryWeight: Double, routeExtra: String = "", routingExtra: String = "", top: String = "") -> String {
        """
        admin:
          token: \(Self.adminToken)
        upstreams:
          canary:
            url: \(canary.baseURL)
            retry: {max_attempts: 1}
        routing:
          force_variant_credentials: [\(Self.testerKey)]
        \(routingExtra)
          routes:
            - name: chat
              paths: [/v1/chat/completions]
              models: [deepseek-chat]
              sticky_by: header:x-user-id
              variants:
                - {name: stable, upstream: default, weight: \(100 - canaryWeight)}
                - {name: canary, upstream: canary, weight: \(canaryWeight), model: deepseek-reasoner}
        \(routeExtra)
        \(top)

        """
    }

    func start(yaml: String) async throws -> RepriseProcess {
        let proxy = try await RepriseProcess.start(upstream: stable.baseURL, yaml: yaml)
        proxies.withLockedValue { $0.append(proxy) }
        return proxy
    }

    func start(configPath: String) async throws -> RepriseProcess {
        let proxy = try await RepriseProcess.start(upstream: stable.baseURL, configPath: configPath)
        proxies.withLockedValue { $0.append(proxy) }
        return proxy
    }

    var proxyLogs: String {
        proxies.withLockedValue { $0 }.enumerated().map { index, proxy in
            "--- reprise #\(index) (port \(proxy.port)) stderr ---\n\(proxy.process.stderr)"
        }.joined(separator: "\n")
    }

    func shutdown() async {
        for proxy in proxies.withLockedValue({ $0 }) { await proxy.stop() }
        await stable.stop()
        await canary.stop()
    }
}

func withRoutingBed(canaryArguments: [String] = [], _ body: (RoutingBed) async throws -> Void) async throws {
    let stable = try await MockUpstream.start()
    let canary: MockUpstream
    do {
        canary = try await MockUpstream.start(arguments: canaryArguments)
    } catch {
        await stable.stop()
        throw error
    }
    let bed = RoutingBed(stable: stable, canary: canary)
    do {
        try await body(bed)
    } catch {
        Issue.record("proxy logs:\n\(bed.proxyLogs)")
        await bed.shutdown()
        throw error
    }
    await bed.shutdown()
}

/// Requests and admin calls of the routing tests.
enum Routed {
    static func chat(
        _ proxy: RepriseProcess, user: String, question: String = "hello there", key: String = "sk-routing-user",
        headers: [(String, String)] = []
    ) async throws -> TestHTTPResponse {
        try await TestHTTP.send(
            .POST, proxy.url("/v1/chat/completions"),
            headers: [("Authorization", "Bearer \(key)"), ("X-User-Id", user)] + headers,
            body: #"{"model":"deepseek-chat","messages":[{"role":"user","content":"\#(question)"}]}"#)
    }

    static func admin(_ method: HTTPMethod, _ proxy: RepriseProcess, _ path: String, body: String? = nil) async throws -> TestHTTPResponse {
        try await TestHTTP.send(method, proxy.url(path), headers: [("Authorization", "Bearer \(RoutingBed.adminToken)")], body: body)
    }

    static func metrics(_ proxy: RepriseProcess) async throws -> [PrometheusSample] {
        PrometheusSample.parse(try await TestHTTP.send(.GET, proxy.url("/metrics")).text)
    }

    /// The variant each of `users` is served by (from `X-Reprise-Variant`).
    static func variants(_ proxy: RepriseProcess, users: [String]) async throws -> [String: String] {
        var seen: [String: String] = [:]
        for user in users {
            let response = try await chat(proxy, user: user, question: "which variant \(UUID().uuidString)")
            #expect(response.status == 200, "\(response.status) \(response.text)")
            seen[user] = response.headers.first(name: "x-reprise-variant") ?? "none"
        }
        return seen
    }

    /// Polls until `condition` holds for what `probe` returns, or `timeout` passes (returns the last).
    static func eventually<T>(timeout: Duration = .seconds(10), _ probe: () async throws -> T, until condition: (T) -> Bool) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            let value = try await probe()
            if condition(value) || ContinuousClock.now >= deadline { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

