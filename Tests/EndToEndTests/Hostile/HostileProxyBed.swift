import Foundation
import Testing

/// The real `reprise` in front of the mock upstream, with tenants A and B's answers to the
/// shared question in its cache. A hostile case that stops the process is recorded by the
/// caller; `restartIfDead()` then starts a fresh proxy (and seeds it again) so every later
/// case is judged on its own.
final class HostileProxyBed {
    /// Small limits, so oversized requests stay cheap to send; short timeouts, so incomplete
    /// requests are answered within a test's patience.
    static let yaml = """
        server:
          max_body_bytes: 1MiB
          max_header_bytes: 16KiB
          request_timeout: 2s
          idle_timeout: 3s
        upstream:
          retry:
            max_attempts: 1

        """

    let mock: MockUpstream
    private(set) var proxy: RepriseProcess
    private let yaml: String
    /// stderr of every proxy that died, for the report.
    private(set) var deadProxyLogs: [String] = []

    private init(mock: MockUpstream, proxy: RepriseProcess, yaml: String) {
        self.mock = mock
        self.proxy = proxy
        self.yaml = yaml
    }

    static func start(yaml: String = HostileProxyBed.yaml) async throws -> HostileProxyBed {
        let mock = try await MockUpstream.start()
        let proxy: RepriseProcess
        do {
            proxy = try await RepriseProcess.start(upstream: mock.baseURL, yaml: yaml)
        } catch {
            await mock.stop()
            throw error
        }
        let bed = HostileProxyBed(mock: mock, proxy: proxy, yaml: yaml)
        do {
            try await bed.seedTenants()
        } catch {
            await bed.shutdown()
            throw error
        }
        return bed
    }

    /// Each seeded tenant asks the shared question with its marker (a miss: the upstream
    /// answers), then again without (a hit: its marker comes back from the cache, which proves
    /// the answer is there for a crossing to leak).
    func seedTenants() async throws {
        for tenant in HostileTenant.seeded {
            let credential = [(tenant.credentialName, tenant.credentialValue)]
            let first = try await TestHTTP.send(
                .POST, proxy.url(HostileRequest.chatPath),
                headers: credential + [("X-Mock-Marker", tenant.marker)],
                body: String(decoding: HostileRequest.sharedBody, as: UTF8.self)
            )
            #expect(first.status == 200, "seeding tenant \(tenant.name): \(first.text)")
            #expect(first.text.contains(tenant.marker), "seeding tenant \(tenant.name) was answered from another tenant's entry: \(first.text)")
            let again = try await TestHTTP.send(
                .POST, proxy.url(HostileRequest.chatPath),
                headers: credential,
                body: String(decoding: HostileRequest.sharedBody, as: UTF8.self)
            )
            #expect(again.cacheStatus == "HIT", "tenant \(tenant.name)'s seeded answer is not in the cache")
            #expect(again.text.contains(tenant.marker), "tenant \(tenant.name) got someone else's answer: \(again.text)")
        }
    }

    /// Alive: the process runs and answers `GET /healthz` with 200 on a fresh connection.
    func isAlive() -> Bool {
        guard proxy.process.isRunning else { return false }
        let request = Array("GET /healthz HTTP/1.1\r\nHost: reprise.test\r\nConnection: close\r\n\r\n".utf8)
        guard case .answered(let response, _)? = try? RawHTTPExchange.send(request, port: proxy.port, timeout: .seconds(5)) else {
            return false
        }
        return response.status == 200
    }

    /// When the proxy is gone (or stopped answering), keeps its logs, starts a fresh one and
    /// seeds it. Returns a description of the death, nil when the proxy was alive.
    func restartIfDead() async throws -> String? {
        if isAlive() { return nil }
        // A trapped process may take a moment (a core dump) before its exit is seen.
        _ = try? await proxy.process.waitForExit(timeout: .seconds(5))
        let death = "reprise exit code \(proxy.process.exitCode.map(String.init) ?? "none (running, not answering)")"
        deadProxyLogs.append("\(death)\n\(proxy.process.stderr.suffix(4000))")
        await proxy.stop()
        proxy = try await RepriseProcess.start(upstream: mock.baseURL, yaml: yaml)
        try await seedTenants()
        return death
    }

    /// Runs `check` on each item in order (it lists what went wrong, nothing when all is as
    /// promised), records each failing item, then one summary with the logs of the proxies that
    /// died on the way.
    func checkEach<Item>(
        _ items: [Item],
        kind: String,
        name: (Item) -> String,
        _ check: (Item) async throws -> [String]
    ) async throws {
        var failed: [String] = []
        for item in items {
            let problems = try await check(item)
            if !problems.isEmpty {
                failed.append(name(item))
                Issue.record("\(kind) \"\(name(item))\": \(problems.joined(separator: "; "))")
            }
        }
        if !failed.isEmpty {
            let logs = deadProxyLogs.joined(separator: "\n---\n")
            Issue.record("\(failed.count) of \(items.count) \(kind)s failed: \(failed.joined(separator: " | "))\n\(logs)")
        }
    }

    func shutdown() async {
        await proxy.stop()
        await mock.stop()
    }
}

/// Runs `body` with a started and seeded bed; stops it afterwards, also when `body` throws.
func withHostileProxyBed(yaml: String = HostileProxyBed.yaml, _ body: (HostileProxyBed) async throws -> Void) async throws {
    let bed = try await HostileProxyBed.start(yaml: yaml)
    do {
        try await body(bed)
    } catch {
        Issue.record("reprise stderr:\n\(bed.proxy.process.stderr.suffix(20_000))")
        await bed.shutdown()
        throw error
    }
    await bed.shutdown()
}
