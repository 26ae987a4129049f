import Foundation
import NIOHTTP1
import Testing

/// Reprise calling an `https://` upstream through its own OpenSSL client: a private CA trusted
/// with `upstream.ca_file`, refused certificates answered with 502 before anything is sent,
/// keep-alive, streams, retries and timeouts over TLS, mTLS, and the start-up checks of the
/// upstream TLS files.
@Suite(.serialized) struct UpstreamTLSTests {
    static let credential = ("authorization", "Bearer sk-upstream-tls")
    static let fastRetry = ["retry:", "  base_delay: 20ms", "  max_delay: 100ms"]

    private func chat(_ label: String, stream: Bool = false) -> String {
        ResilienceE2ETests.chat(label, stream: stream)
    }

    private func post(_ bed: TLSUpstreamBed, _ body: String, headers: [(String, String)] = []) async throws -> TestHTTPResponse {
        try await TestHTTP.send(.POST, bed.proxy.url("/v1/chat/completions"), headers: [Self.credential] + headers, body: body)
    }

    /// The `error` object of an OpenAI-shaped error body.
    private func errorObject(_ response: TestHTTPResponse) throws -> [String: Any] {
        try #require(try response.json()["error"] as? [String: Any], "\(response.text)")
    }

    @Test func aPrivateCAInCaFileIsTrustedAndOneConnectionServesEveryRequest() async throws {
        try await TLSUpstreamBed.run { bed in
            var localPorts: Set<Int> = []
            for index in 0..<5 {
                let response = try await post(bed, chat("keep-alive \(index)"))
                #expect(response.status == 200, "\(response.text)")
                #expect(try ResilienceE2ETests.messageContent(response.text).isEmpty == false)
                let connections = try UpstreamTCPConnections.localPorts(connectedTo: bed.front.httpsPort)
                #expect(connections.count == 1, "request \(index): connections to the TLS upstream: \(connections)")
                localPorts.formUnion(connections)
            }
            #expect(localPorts.count == 1, "the requests used \(localPorts.count) TLS connections, not one kept alive")
            #expect(try await bed.mock.stats().requests == 5)
        }
    }

    @Test func aStreamArrivesInPiecesOverTLSAndIsReplayedFromTheCache() async throws {
        try await TLSUpstreamBed.run { bed in
            let body = chat("stream over tls", stream: true)
            let headers = [Self.credential, ("x-mock-chunks", "6"), ("x-mock-chunk-delay-ms", "100")]
            let live = try await TestHTTP.stream(.POST, bed.proxy.url("/v1/chat/completions"), headers: headers, body: body)
            #expect(live.status == 200)
            #expect(live.bodyError == nil, "\(String(describing: live.bodyError))")
            #expect(live.events.last == "[DONE]")
            #expect(live.parts.count >= 3, "the stream came in \(live.parts.count) part(s), not as it was produced")
            let content = try ResilienceE2ETests.streamedContent(live.events)
            #expect(!content.isEmpty)

            let replayed = try await TestHTTP.stream(.POST, bed.proxy.url("/v1/chat/completions"), headers: headers, body: body)
            #expect(try ResilienceE2ETests.streamedContent(replayed.events) == content)
            #expect(try await bed.mock.stats().requests == 1, "the second stream was not answered from the cache")
        }
    }

    /// Each refused certificate: 502 with `upstream_tls_failed`, a message naming the check,
    /// one attempt only (a retry would meet the same certificate), and nothing reached the
    /// upstream.
    @Test(arguments: ["untrusted", "hostname", "expired"])
    func aRefusedCertificateIsA502ThatSaysWhyAndSendsNothing(_ scenario: String) async throws {
        let frontPair: ((TLSTestPKI) -> (certificate: String, key: String))? = switch scenario {
        case "hostname": { ($0.otherHostCertificate, $0.otherHostKey) }
        case "expired": { ($0.expiredCertificate, $0.expiredKey) }
        default: nil
        }
        let expectedPhrase = switch scenario {
        case "hostname": "certificate does not match the host name"
        case "expired": "certificate expired"
        default: "certificate not trusted"
        }
        try await TLSUpstreamBed.run(frontPair: frontPair, trustPrivateCA: scenario != "untrusted") { bed in
            let response = try await post(bed, chat("refused \(scenario)"))
            #expect(response.status == 502)
            let error = try errorObject(response)
            #expect(error["code"] as? String == "upstream_tls_failed")
            let message = try #require(error["message"] as? String)
            #expect(message.contains(expectedPhrase), "\(message)")
            #expect(message.contains("localhost:\(bed.front.httpsPort)"), "\(message)")
            #expect(message.contains("not sent"), "\(message)")
            #expect(response.headers["x-reprise-attempts"] == ["1"], "a certificate failure was retried")
            #expect(try await bed.mock.stats().requests == 0, "the upstream received a request over a refused connection")
        }
    }

    @Test func anMTLSUpstreamGetsTheClientCertificate() async throws {
        let requireClientCertificates = { (pki: TLSTestPKI) in ["client_ca: \(pki.caCertificate)"] }
        try await TLSUpstreamBed.run(
            frontTLS: requireClientCertificates,
            upstream: { ["client_certificate: \($0.clientCertificate)", "client_key: \($0.clientKey)"] }
        ) { bed in
            let response = try await post(bed, chat("mtls"))
            #expect(response.status == 200, "\(response.text)")
        }
        // Without it, the front refuses the connection: an error, and no request reaches the mock.
        try await TLSUpstreamBed.run(frontTLS: requireClientCertificates, upstream: { _ in Self.fastRetry }) { bed in
            let response = try await post(bed, chat("mtls missing"))
            #expect(response.status == 502, "\(response.text)")
            #expect(try await bed.mock.stats().requests == 0)
        }
    }

    @Test func serverErrorsAreRetriedOverTheTLSConnection() async throws {
        try await TLSUpstreamBed.run(upstream: { _ in Self.fastRetry }) { bed in
            let response = try await post(bed, chat("500 twice over tls"), headers: [
                ("x-mock-status", "500"), ("x-mock-fail-times", "2"), ("x-mock-scenario", UUID().uuidString),
            ])
            #expect(response.status == 200, "\(response.text)")
            #expect(response.headers["x-reprise-attempts"].last == "3")
            #expect(try await bed.mock.stats().requests == 3)
            #expect(try UpstreamTCPConnections.localPorts(connectedTo: bed.front.httpsPort).count == 1,
                    "answers to retried attempts keep the connection")
        }
    }

    @Test func firstByteTimeoutFailsEachSlowAttemptOverTLS() async throws {
        let upstream = ["first_byte_timeout: 500ms"] + Self.fastRetry + ["  max_attempts: 2"]
        try await TLSUpstreamBed.run(upstream: { _ in upstream }) { bed in
            let started = ContinuousClock.now
            let response = try await post(bed, chat("slow head over tls"), headers: [("x-mock-latency-ms", "3000")])
            #expect(response.status == 504, "\(response.text)")
            #expect(response.headers["x-reprise-attempts"] == ["2"])
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(try await bed.mock.stats().requests == 2)
        }
    }

    /// The pool's next connection to the same upstream resumes the session of the last one (a
    /// TLS 1.2 session id, a TLS 1.3 ticket): no certificate, no signature. The upstream is
    /// `openssl s_server -www`, which answers every GET with a page saying whether the session
    /// was `New` or `Reused`, as HTTP/1.0 (so each request needs a new connection).
    @Test(arguments: ["-tls1_2", "-tls1_3"])
    func theNextConnectionToTheUpstreamResumesTheSession(version: String) async throws {
        let pki = try await TLSTestPKI.make()
        defer { pki.remove() }
        let upstream = try ManagedProcess(executable: URL(fileURLWithPath: "/usr/bin/openssl"), arguments: [
            "s_server", "-accept", "127.0.0.1:0", "-cert", pki.serverCertificate, "-key", pki.serverKey, "-www", version,
        ])
        let port = try #require(Int(try await upstream.waitForOutput(matching: #"ACCEPT 127\.0\.0\.1:([0-9]+)"#)[1]))
        let proxy = try await RepriseProcess.start(
            upstream: "https://localhost:\(port)", yaml: "upstream:\n  ca_file: \(pki.caCertificate)\ncache:\n  enabled: false\n")
        var sessions: [String] = []
        for _ in 0..<3 {
            let page = try await TestHTTP.send(.GET, proxy.url("/v1/models")).text
            sessions.append(page.firstMatch(of: #/(New|Reused), (TLSv1\.[23])/#).map { "\($0.1) \($0.2)" } ?? page)
        }
        await proxy.stop()
        upstream.kill(signal: SIGKILL)  // a test tool with nothing to save
        await upstream.terminate()
        let tls = version == "-tls1_2" ? "TLSv1.2" : "TLSv1.3"
        #expect(sessions == ["New \(tls)", "Reused \(tls)", "Reused \(tls)"])
    }

    /// `connect_timeout` covers the TLS handshake: an upstream that accepts TCP and never
    /// answers the hello is a connect timeout (504), retried like one.
    @Test func aHandshakeThatNeverFinishesIsAConnectTimeout() async throws {
        let pki = try await TLSTestPKI.make()
        defer { pki.remove() }
        let silent = try SilentTCPListener()
        let yaml = "upstream:\n  ca_file: \(pki.caCertificate)\n  connect_timeout: 400ms\n  retry:\n    max_attempts: 2\n    base_delay: 20ms\n    max_delay: 50ms\n"
        let proxy = try await RepriseProcess.start(upstream: "https://127.0.0.1:\(silent.port)", yaml: yaml)
        let started = ContinuousClock.now
        let response = try await TestHTTP.send(.POST, proxy.url("/v1/chat/completions"), headers: [Self.credential], body: chat("silent"))
        let elapsed = ContinuousClock.now - started
        await proxy.stop()
        #expect(response.status == 504, "\(response.text)")
        #expect(try errorObject(response)["message"] as? String == "upstream timed out: no connection within upstream.connect_timeout")
        #expect(response.headers["x-reprise-attempts"] == ["2"])
        #expect(elapsed < .seconds(4), "two 400ms connect timeouts took \(elapsed)")
    }

    /// The upstream TLS files are read at start: a missing CA file or a certificate without its
    /// key stops start-up (and `check-config`) naming the key.
    @Test func upstreamTLSFilesAreCheckedAtStartNamingTheKey() async throws {
        let pki = try await TLSTestPKI.make()
        defer { pki.remove() }
        let missing = pki.path("missing-ca.pem")
        let cases: [(yaml: String, key: String, mentions: String)] = [
            ("upstream:\n  ca_file: \(missing)\n", "upstream.ca_file", missing),
            ("upstream:\n  ca_file: \(pki.notPEM)\n", "upstream.ca_file", pki.notPEM),
            ("upstream:\n  client_certificate: \(pki.clientCertificate)\n", "upstream.client_key", "go together"),
            ("upstream:\n  client_certificate: \(pki.clientCertificate)\n  client_key: \(pki.unrelatedKey)\n", "upstream.client_key", pki.unrelatedKey),
        ]
        for entry in cases {
            let configPath = pki.path("config-\(UUID().uuidString).yaml")
            try entry.yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
            let check = try await ClientCommand.run(try TestBinaries.reprise.path, ["check-config", configPath])
            #expect(check.exitCode == 78, "\(entry.yaml): \(check.output)")
            #expect(check.output.contains(entry.key) && check.output.contains(entry.mentions), "\(entry.yaml): \(check.output)")
        }
        let good = pki.path("good.yaml")
        try "upstream:\n  ca_file: \(pki.caCertificate)\n  client_certificate: \(pki.clientCertificate)\n  client_key: \(pki.clientKey)\n"
            .write(toFile: good, atomically: true, encoding: .utf8)
        let check = try await ClientCommand.run(try TestBinaries.reprise.path, ["check-config", good])
        #expect(check.exitCode == 0, "\(check.output)")
    }
}
