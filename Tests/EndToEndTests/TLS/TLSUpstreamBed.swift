import Foundation

/// A real `https://` upstream with a private CA, and the Reprise under test calling it: the mock
/// upstream behind a Reprise that only terminates TLS (the "front": `server.tls`, one thread, no
/// cache, no retries, no breaker, so every call it gets reaches the mock once).
struct TLSUpstreamBed {
    let pki: TLSTestPKI
    let mock: MockUpstream
    let front: TLSProxy
    /// The Reprise under test, upstream `https://localhost:<front's TLS port>`, one thread (one
    /// pool, so keep-alive can be observed).
    let proxy: RepriseProcess

    /// What the front needs besides its TLS listener.
    static let frontSettings = """
          threads: 1
        upstream:
          retry:
            max_attempts: 1
          circuit_breaker:
            enabled: false
        cache:
          enabled: false

        """

    /// Starts everything, runs `body`, stops everything (also when `body` throws).
    /// - Parameters:
    ///   - frontPair: the certificate and key the front serves (default: the valid localhost pair).
    ///   - frontTLS: more `server.tls` lines for the front (e.g. `client_ca: ...`).
    ///   - trustPrivateCA: give the proxy `upstream.ca_file` (the test CA); else the system store.
    ///   - upstream: more `upstream:` lines for the proxy (indented by two spaces).
    static func run(
        frontPair: ((TLSTestPKI) -> (certificate: String, key: String))? = nil,
        frontTLS: (TLSTestPKI) -> [String] = { _ in [] },
        trustPrivateCA: Bool = true,
        upstream: (TLSTestPKI) -> [String] = { _ in [] },
        _ body: (TLSUpstreamBed) async throws -> Void
    ) async throws {
        let pki = try await TLSTestPKI.make()
        defer { pki.remove() }
        let mock = try await MockUpstream.start()
        let pair: (certificate: String, key: String) = frontPair?(pki) ?? (pki.serverCertificate, pki.serverKey)
        let front: TLSProxy
        do {
            front = try await TLSProxy.start(
                upstream: mock.baseURL,
                yaml: TLSProxy.tlsYAML(certificate: pair.certificate, key: pair.key, extra: frontTLS(pki)) + frontSettings
            )
        } catch {
            await mock.stop()
            throw error
        }
        var proxyYAML = "server:\n  threads: 1\nupstream:\n"
        if trustPrivateCA { proxyYAML += "  ca_file: \(pki.caCertificate)\n" }
        for line in upstream(pki) { proxyYAML += "  \(line)\n" }
        let proxy: RepriseProcess
        do {
            proxy = try await RepriseProcess.start(upstream: "https://localhost:\(front.httpsPort)", yaml: proxyYAML)
        } catch {
            await front.stop()
            await mock.stop()
            throw error
        }
        do {
            try await body(TLSUpstreamBed(pki: pki, mock: mock, front: front, proxy: proxy))
        } catch {
            await stopAll(proxy, front, mock)
            throw error
        }
        await stopAll(proxy, front, mock)
    }

    private static func stopAll(_ proxy: RepriseProcess, _ front: TLSProxy, _ mock: MockUpstream) async {
        await proxy.stop()
        await front.stop()
        await mock.stop()
    }
}
