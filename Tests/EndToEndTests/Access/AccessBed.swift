import Foundation
import NIOConcurrencyHelpers
import Testing

/// Issued keys of the access tests, with their SHA-256 (`printf %s KEY | sha256sum`).
enum TestKeys {
    static let alpha = "rk-e2e-team-alpha-0001"
    static let alphaSHA256 = "dbd7b92e61155eef020d438ac0625b21eed5593374bca1edcf94becc183b5e6a"
    static let beta = "rk-e2e-team-beta-0002"
    static let betaSHA256 = "dc48fb05df00e48e90f54fef67e713c2afd9da643a7793befde41a4f4d2073c3"
    /// Listed nowhere.
    static let gamma = "rk-e2e-team-gamma-0003"
    /// What Reprise sends upstream in keys mode (from the environment, never the config).
    static let upstream = "sk-upstream-e2e-secret-9876543210"
    static let environment = ["REPRISE_E2E_UPSTREAM_KEY": upstream]
}

/// A mock upstream and any number of `reprise` processes started with the test's YAML and
/// `TestKeys.environment`; everything is stopped at the end, also when the test throws.
final class AccessBed: Sendable {
    let mock: MockUpstream
    private let proxies = NIOLockedValueBox<[RepriseProcess]>([])

    init(mock: MockUpstream) {
        self.mock = mock
    }

    func start(_ yaml: String) async throws -> RepriseProcess {
        let proxy = try await RepriseProcess.start(upstream: mock.baseURL, yaml: yaml, environment: TestKeys.environment)
        proxies.withLockedValue { $0.append(proxy) }
        return proxy
    }

    var logs: String {
        proxies.withLockedValue { $0 }.map { $0.process.stderr + $0.process.stdout }.joined(separator: "\n")
    }

    func shutdown() async {
        for proxy in proxies.withLockedValue({ $0 }) { await proxy.stop() }
        await mock.stop()
    }
}

func withAccessBed(_ body: (AccessBed) async throws -> Void) async throws {
    let bed = AccessBed(mock: try await MockUpstream.start())
    do {
        try await body(bed)
    } catch {
        Issue.record("proxy logs:\n\(bed.logs)")
        await bed.shutdown()
        throw error
    }
    await bed.shutdown()
}

/// Requests of the access tests.
enum AccessRequest {
    static func chat(_ question: String, model: String = "deepseek-chat", extra: String = "") -> String {
        #"{"model":"\#(model)",\#(extra)"temperature":0,"messages":[{"role":"user","content":"\#(question)"}]}"#
    }

    static func send(
        _ proxy: RepriseProcess, key: String?, body: String, headers: [(String, String)] = [], path: String = "/v1/chat/completions"
    ) async throws -> TestHTTPResponse {
        let auth = key.map { [("Authorization", "Bearer \($0)")] } ?? []
        return try await TestHTTP.send(.POST, proxy.url(path), headers: auth + [("content-type", "application/json")] + headers, body: body)
    }

    static func errorCode(_ response: TestHTTPResponse) -> String? {
        ((try? response.json())?["error"] as? [String: Any])?["code"] as? String
    }
}
