import Foundation
import Testing

/// Reprise's HTTPS listener end to end: the real `reprise` terminating TLS with OpenSSL in front
/// of the real mock upstream, driven by real clients (curl, `openssl s_client`) with a PKI made
/// by the `openssl` CLI at test time.
@Suite(.serialized) struct ProxyTLSTests {
    static let chat = #"{"model":"deepseek-chat","messages":[{"role":"user","content":"Is TLS terminated here?"}]}"#
    /// A different question from `chat`, so its first answer is a live stream from the upstream.
    static let streamed = #"{"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"Does the stream survive TLS?"}]}"#
    static let modernTLS12Ciphers: Set<String> = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ]

    struct CurlResponse {
        let exitCode: Int32
        let status: Int
        let headers: [(name: String, value: String)]
        let body: String
        let raw: String
        func header(_ name: String) -> String? {
            headers.last { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    // MARK: - Harness

    /// Runs `body` with a fresh PKI, a mock upstream and a TLS-enabled reprise configured by
    /// `yaml(pki)`; stops everything afterwards, also on failure (then reprise's stderr is recorded).
    private func withTLSProxy(
        yaml: (TLSTestPKI) -> String = { TLSProxy.tlsYAML(certificate: $0.serverCertificate, key: $0.serverKey) },
        _ body: (TLSTestPKI, MockUpstream, TLSProxy) async throws -> Void
    ) async throws {
        let pki = try await TLSTestPKI.make()
        defer { pki.remove() }
        let mock = try await MockUpstream.start()
        let proxy: TLSProxy
        do {
            proxy = try await TLSProxy.start(upstream: mock.baseURL, yaml: yaml(pki))
        } catch {
            await mock.stop()
            throw error
        }
        do {
            try await body(pki, mock, proxy)
            #expect(proxy.process.isRunning, "reprise exited: \(proxy.process.stderr)")
        } catch {
            Issue.record("reprise stderr:\n\(proxy.process.stderr.suffix(8000))")
            await proxy.stop()
            await mock.stop()
            throw error
        }
        await proxy.stop()
        await mock.stop()
    }

    private func curl(
        _ url: String, pki: TLSTestPKI, body: String = ProxyTLSTests.chat, headers: [String] = [], extra: [String] = []
    ) async throws -> CurlResponse {
        var arguments = ["-sS", "-i", "--http1.1", "--max-time", "30", "--cacert", pki.caCertificate,
                         "-H", "Content-Type: application/json", "-H", "Authorization: Bearer sk-tenant-tls"]
        for header in headers { arguments += ["-H", header] }
        arguments += extra + ["--data-binary", body, url]
        let result = try await ClientCommand.run("/usr/bin/curl", arguments)
        let text = result.stdout
        guard result.exitCode == 0, let headEnd = text.range(of: "\r\n\r\n") else {
            return CurlResponse(exitCode: result.exitCode, status: 0, headers: [], body: "", raw: result.output)
        }
        let lines = text[..<headEnd.lowerBound].split(separator: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))
        }
        return CurlResponse(exitCode: 0, status: status, headers: headers, body: String(text[headEnd.upperBound...]), raw: result.output)
    }

    private func completionsURL(_ proxy: TLSProxy) -> String { proxy.httpsBaseURL + "/v1/chat/completions" }

    private func request(_ body: String, extraHeaders: String = "") -> String {
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + "Authorization: Bearer sk-tenant-tls\r\n\(extraHeaders)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// Polls new s_client connections until the served certificate has `subject` (or the timeout).
    private func waitForServedSubject(_ subject: String, port: Int, pki: TLSTestPKI, timeout: Duration = .seconds(10)) async throws -> ClientCommand.Result {
        let deadline = ContinuousClock.now + timeout
        while true {
            let session = try await ClientCommand.sClient(port: port, ["-CAfile", pki.caCertificate])
            if ClientCommand.peerSubject(session) == subject || ContinuousClock.now >= deadline { return session }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Polls reprise's stderr until it contains `text`.
    private func waitForLog(_ text: String, in proxy: TLSProxy, timeout: Duration = .seconds(15)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if proxy.process.stderr.contains(text) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return proxy.process.stderr.contains(text)
    }

    // MARK: - Answers over HTTPS

    @Test func theConnectionCapCountsBothListenersAndRefusesOverHTTPSAfterTheHandshake() async throws {
        let yaml = { (pki: TLSTestPKI) in
            TLSProxy.tlsYAML(certificate: pki.serverCertificate, key: pki.serverKey) + "  max_connections: 1\n"
        }
        try await withTLSProxy(yaml: yaml) { pki, _, proxy in
            var plain: RawHTTPConnection? = try RawHTTPConnection(port: proxy.httpPort)
            try plain?.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try plain?.readResponse().status == 200)

            let refused = try await curl(completionsURL(proxy), pki: pki)
            #expect(refused.status == 503, "curl: \(refused.raw.prefix(500))")
            #expect(refused.header("retry-after") == "1")
            #expect(refused.body.contains("\"code\":\"too_many_connections\""))

            plain = nil  // frees the one slot
            #expect(plain == nil)
            var admitted = 0
            for _ in 0..<50 where admitted != 200 {
                admitted = try await curl(completionsURL(proxy), pki: pki).status
                if admitted != 200 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(admitted == 200)
        }
    }

    @Test func jsonAndStreamedCompletionsOverHTTPSAreCachedAndReplayed() async throws {
        try await withTLSProxy { pki, mock, proxy in
            let first = try await curl(completionsURL(proxy), pki: pki)
            #expect(first.exitCode == 0, "\(first.raw)")
            #expect(first.status == 200)
            #expect(first.header("x-cache") == "MISS")
            let document = try TestJSON.object(first.body)
            #expect(document["object"] as? String == "chat.completion")
            let second = try await curl(completionsURL(proxy), pki: pki)
            #expect(second.header("x-cache") == "HIT")
            #expect(second.body == first.body)

            let live = try await curl(completionsURL(proxy), pki: pki, body: Self.streamed, extra: ["-N"])
            #expect(live.status == 200, "\(live.raw)")
            #expect(live.header("x-cache") == "MISS")
            #expect(live.header("content-type")?.hasPrefix("text/event-stream") == true)
            #expect(live.body.contains("chat.completion.chunk"))
            #expect(live.body.hasSuffix("data: [DONE]\n\n"))
            let replayed = try await curl(completionsURL(proxy), pki: pki, body: Self.streamed, extra: ["-N"])
            #expect(replayed.header("x-cache") == "HIT")
            #expect(replayed.body == live.body)
            // The JSON question and the streamed one went upstream once each.
            #expect(try await mock.stats().requests == 2)
        }
    }

    @Test func plainAndHTTPSListenersShareOneCache() async throws {
        try await withTLSProxy { pki, mock, proxy in
            let plain = try await curl(proxy.httpBaseURL + "/v1/chat/completions", pki: pki)
            #expect(plain.status == 200, "\(plain.raw)")
            #expect(plain.header("x-cache") == "MISS")
            let secure = try await curl(completionsURL(proxy), pki: pki)
            #expect(secure.status == 200, "\(secure.raw)")
            #expect(secure.header("x-cache") == "HIT")
            #expect(secure.body == plain.body)
            #expect(try await mock.stats().requests == 1)
        }
    }

    // MARK: - Protocols, ciphers, ALPN

    @Test func tls12AndTLS13AreEachNegotiated() async throws {
        try await withTLSProxy { pki, _, proxy in
            let tls12 = try await ClientCommand.sClient(port: proxy.httpsPort, ["-tls1_2", "-CAfile", pki.caCertificate, "-verify_return_error"])
            #expect(tls12.exitCode == 0, "\(tls12.output)")
            #expect(ClientCommand.negotiatedProtocol(tls12) == "TLSv1.2", "\(tls12.output)")
            let cipher = ClientCommand.negotiatedCipher(tls12) ?? "none"
            #expect(Self.modernTLS12Ciphers.contains(cipher), "TLS 1.2 negotiated \(cipher)")
            #expect(tls12.output.contains("Verify return code: 0 (ok)"))

            let tls13 = try await ClientCommand.sClient(port: proxy.httpsPort, ["-tls1_3", "-CAfile", pki.caCertificate, "-verify_return_error"])
            #expect(tls13.exitCode == 0, "\(tls13.output)")
            #expect(ClientCommand.negotiatedProtocol(tls13) == "TLSv1.3", "\(tls13.output)")
            #expect(ClientCommand.peerSubject(tls13) == TLSTestPKI.serverSubject)

            // With no version forced the client and server settle on 1.3.
            let preferred = try await ClientCommand.sClient(port: proxy.httpsPort, ["-CAfile", pki.caCertificate])
            #expect(ClientCommand.negotiatedProtocol(preferred) == "TLSv1.3", "\(preferred.output)")
        }
    }

    @Test func tls10AndTLS11AreRefusedByTheServer() async throws {
        try await withTLSProxy { _, _, proxy in
            for version in ["-tls1", "-tls1_1"] {
                // SECLEVEL=0 lets the client offer the old protocol: the refusal is the server's.
                let session = try await ClientCommand.sClient(port: proxy.httpsPort, [version, "-cipher", "DEFAULT:@SECLEVEL=0"])
                #expect(session.exitCode != 0, "\(version) accepted: \(session.output)")
                #expect(ClientCommand.negotiatedProtocol(session) == nil, "\(version): \(session.output)")
                #expect(session.output.contains("alert protocol version"), "\(version): \(session.output)")
            }
        }
    }

    @Test func weakCiphersAreRefusedWhileAStrongOneWorks() async throws {
        // An RSA certificate, so RSA key transport and ECDHE-RSA CBC suites would be possible at all.
        try await withTLSProxy(yaml: { TLSProxy.tlsYAML(certificate: $0.rsaCertificate, key: $0.rsaKey) }) { _, _, proxy in
            let strong = try await ClientCommand.sClient(port: proxy.httpsPort, ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"])
            #expect(ClientCommand.negotiatedCipher(strong) == "ECDHE-RSA-AES128-GCM-SHA256", "\(strong.output)")
            for cipher in ["AES128-SHA", "AES256-SHA256", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384", "DES-CBC3-SHA"] {
                let session = try await ClientCommand.sClient(port: proxy.httpsPort, ["-tls1_2", "-cipher", "\(cipher):@SECLEVEL=0"])
                #expect(session.exitCode != 0, "\(cipher) accepted: \(session.output)")
                #expect(ClientCommand.negotiatedProtocol(session) == nil, "\(cipher): \(session.output)")
                if session.output.contains("no cipher match") {
                    // This client's OpenSSL build cannot offer the suite at all (Debian drops 3DES):
                    // nothing reached the server, which the plain check above already covers.
                    continue
                }
                #expect(session.output.contains("handshake failure"), "\(cipher): \(session.output)")
            }
        }
        // The same client does get a CBC/SHA-1 suite from a server configured to offer it, so the
        // refusals above are the server's choice, not the client's inability.
        try await withTLSProxy(yaml: {
            TLSProxy.tlsYAML(certificate: $0.rsaCertificate, key: $0.rsaKey, extra: ["ciphers: \"ECDHE-RSA-AES128-SHA\""])
        }) { _, _, proxy in
            let weak = try await ClientCommand.sClient(port: proxy.httpsPort, ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"])
            #expect(ClientCommand.negotiatedCipher(weak) == "ECDHE-RSA-AES128-SHA", "\(weak.output)")
        }
    }

    @Test func alpnSelectsHTTP11() async throws {
        try await withTLSProxy { pki, _, proxy in
            let session = try await ClientCommand.sClient(port: proxy.httpsPort, ["-alpn", "http/1.1", "-CAfile", pki.caCertificate])
            #expect(session.output.contains("ALPN protocol: http/1.1"), "\(session.output)")
            let both = try await ClientCommand.sClient(port: proxy.httpsPort, ["-alpn", "h2,http/1.1", "-CAfile", pki.caCertificate])
            #expect(both.output.contains("ALPN protocol: http/1.1"), "\(both.output)")
            // h2 only: nothing in common, refused with no_application_protocol (documented behaviour).
            let h2 = try await ClientCommand.sClient(port: proxy.httpsPort, ["-alpn", "h2"])
            #expect(h2.output.contains("no application protocol"), "\(h2.output)")
        }
    }

    @Test func minimumVersion13RefusesTLS12() async throws {
        try await withTLSProxy(yaml: {
            TLSProxy.tlsYAML(certificate: $0.serverCertificate, key: $0.serverKey, extra: ["min_version: \"1.3\""])
        }) { pki, _, proxy in
            let tls12 = try await ClientCommand.sClient(port: proxy.httpsPort, ["-tls1_2"])
            #expect(tls12.exitCode != 0, "\(tls12.output)")
            #expect(ClientCommand.negotiatedProtocol(tls12) == nil, "\(tls12.output)")
            #expect(tls12.output.contains("alert protocol version"), "\(tls12.output)")
            let tls13 = try await ClientCommand.sClient(port: proxy.httpsPort, ["-tls1_3", "-CAfile", pki.caCertificate])
            #expect(ClientCommand.negotiatedProtocol(tls13) == "TLSv1.3", "\(tls13.output)")
            let answer = try await curl(completionsURL(proxy), pki: pki)
            #expect(answer.status == 200, "\(answer.raw)")
        }
    }

    // MARK: - mTLS

    @Test func mutualTLSAcceptsAClientCertificateAndRefusesNone() async throws {
        try await withTLSProxy(yaml: {
            TLSProxy.tlsYAML(certificate: $0.serverCertificate, key: $0.serverKey, extra: ["client_ca: \($0.caCertificate)"])
        }) { pki, _, proxy in
            let accepted = try await curl(completionsURL(proxy), pki: pki, extra: ["--cert", pki.clientCertificate, "--key", pki.clientKey])
            #expect(accepted.exitCode == 0, "\(accepted.raw)")
            #expect(accepted.status == 200)
            let refused = try await curl(completionsURL(proxy), pki: pki)
            #expect(refused.exitCode != 0, "accepted without a client certificate: \(refused.raw)")
            #expect(refused.status == 0)
            // TLS 1.2 makes the refusal part of the handshake itself.
            let tls12 = try await ClientCommand.sClient(port: proxy.httpsPort, ["-tls1_2", "-CAfile", pki.caCertificate])
            // s_client still prints the protocol it offered in its session summary, so the exit
            // status and the server's alert are what show the refusal.
            #expect(tls12.exitCode != 0, "\(tls12.output)")
            #expect(tls12.output.contains("alert"), "\(tls12.output)")
            // A certificate the CA signed for serverAuth only is not a client certificate.
            let wrongUsage = try await curl(completionsURL(proxy), pki: pki, extra: ["--cert", pki.serverCertificate, "--key", pki.serverKey])
            #expect(wrongUsage.exitCode != 0, "server certificate accepted as a client certificate: \(wrongUsage.raw)")
        }
    }

    // MARK: - Certificate rotation

    @Test func sighupRotatesForNewConnectionsWhileAnOpenOneKeepsWorking() async throws {
        try await withTLSProxy(yaml: {
            // Polling effectively off: only SIGHUP can explain a change.
            TLSProxy.tlsYAML(certificate: $0.serverCertificate, key: $0.serverKey, extra: ["reload_interval: 1h"])
        }) { pki, _, proxy in
            let before = try await ClientCommand.sClient(port: proxy.httpsPort, ["-CAfile", pki.caCertificate])
            #expect(try await ClientCommand.peerSerial(before) == TLSTestPKI.serverSerial)

            let open = try KeepAliveTLSClient(port: proxy.httpsPort, caFile: pki.caCertificate)
            defer { open.close() }
            try open.send(request(Self.chat))
            let firstAnswers = try await open.waitForResponses(1)
            #expect(firstAnswers[0].status == 200)

            try pki.replace(pki.serverCertificate, with: pki.rotatedCertificate)
            try pki.replace(pki.serverKey, with: pki.rotatedKey)
            proxy.process.kill(signal: SIGHUP)

            let after = try await waitForServedSubject(TLSTestPKI.rotatedSubject, port: proxy.httpsPort, pki: pki)
            #expect(ClientCommand.peerSubject(after) == TLSTestPKI.rotatedSubject, "\(after.output)")
            #expect(try await ClientCommand.peerSerial(after) == TLSTestPKI.rotatedSerial)
            #expect(after.output.contains("Verify return code: 0 (ok)"))

            // The connection opened before the reload still answers.
            try open.send(request(Self.chat))
            let answers = try await open.waitForResponses(2)
            #expect(answers[1].status == 200)
            #expect(answers[1].header("x-cache") == "HIT")
            #expect(answers[1].body == answers[0].body)
            let served = try await curl(completionsURL(proxy), pki: pki)
            #expect(served.status == 200, "\(served.raw)")
        }
    }

    @Test func changedFilesAreReloadedWithoutASignal() async throws {
        try await withTLSProxy(yaml: {
            TLSProxy.tlsYAML(certificate: $0.serverCertificate, key: $0.serverKey, extra: ["reload_interval: 500ms"])
        }) { pki, _, proxy in
            let before = try await ClientCommand.sClient(port: proxy.httpsPort, ["-CAfile", pki.caCertificate])
            #expect(ClientCommand.peerSubject(before) == TLSTestPKI.serverSubject)
            try pki.replace(pki.serverKey, with: pki.rotatedKey)
            try pki.replace(pki.serverCertificate, with: pki.rotatedCertificate)
            let after = try await waitForServedSubject(TLSTestPKI.rotatedSubject, port: proxy.httpsPort, pki: pki)
            #expect(ClientCommand.peerSubject(after) == TLSTestPKI.rotatedSubject, "\(after.output)")
            #expect(try await ClientCommand.peerSerial(after) == TLSTestPKI.rotatedSerial)
            let served = try await curl(completionsURL(proxy), pki: pki)
            #expect(served.status == 200, "\(served.raw)")
        }
    }

    @Test func aBrokenNewPairKeepsTheOldCertificate() async throws {
        try await withTLSProxy(yaml: {
            TLSProxy.tlsYAML(certificate: $0.serverCertificate, key: $0.serverKey, extra: ["reload_interval: 500ms"])
        }) { pki, _, proxy in
            // The new certificate with a key that is not its own.
            try pki.replace(pki.serverCertificate, with: pki.rotatedCertificate)
            try pki.replace(pki.serverKey, with: pki.unrelatedKey)
            proxy.process.kill(signal: SIGHUP)
            #expect(try await waitForLog("keeping the previous certificate", in: proxy), "\(proxy.process.stderr)")
            try await Task.sleep(for: .seconds(1.5))  // a few polls of the watcher too
            let session = try await ClientCommand.sClient(port: proxy.httpsPort, ["-CAfile", pki.caCertificate])
            #expect(ClientCommand.peerSubject(session) == TLSTestPKI.serverSubject, "\(session.output)")
            #expect(try await ClientCommand.peerSerial(session) == TLSTestPKI.serverSerial)
            let served = try await curl(completionsURL(proxy), pki: pki)
            #expect(served.status == 200, "\(served.raw)")
            #expect(proxy.process.isRunning)

            // The matching key arriving later completes the rotation.
            try pki.replace(pki.serverKey, with: pki.rotatedKey)
            let healed = try await waitForServedSubject(TLSTestPKI.rotatedSubject, port: proxy.httpsPort, pki: pki)
            #expect(ClientCommand.peerSubject(healed) == TLSTestPKI.rotatedSubject, "\(healed.output)")
        }
    }

    // MARK: - Start-up checks

    @Test func startupWithABadCertificateOrKeyExits78NamingTheFile() async throws {
        let pki = try await TLSTestPKI.make()
        defer { pki.remove() }
        let missing = pki.path("missing.pem")
        let cases: [(certificate: String, key: String, file: String, configKey: String)] = [
            (missing, pki.serverKey, missing, "server.tls.certificate"),
            (pki.notPEM, pki.serverKey, pki.notPEM, "server.tls.certificate"),
            (pki.serverCertificate, pki.unrelatedKey, pki.unrelatedKey, "server.tls.private_key"),
            (pki.serverCertificate, pki.path("missing.key"), pki.path("missing.key"), "server.tls.private_key"),
        ]
        for entry in cases {
            let yaml = TLSProxy.tlsYAML(certificate: entry.certificate, key: entry.key)
            let (process, configPath) = try TLSProxy.launch(upstream: "http://127.0.0.1:9", yaml: yaml)
            let code = try await process.waitForExit(timeout: .seconds(60))
            try await Task.sleep(for: .milliseconds(50))
            #expect(code == 78, "\(entry.file): exit \(code)\n\(process.stderr)")
            #expect(process.stderr.contains(entry.file), "\(process.stderr)")
            #expect(process.stderr.contains(entry.configKey), "\(process.stderr)")
            #expect(!process.stdout.contains("listening on"), "\(process.stdout)")

            let check = try await ClientCommand.run(try TestBinaries.reprise.path, ["check-config", configPath])
            #expect(check.exitCode == 78, "check-config \(entry.file): \(check.output)")
            #expect(check.output.contains(entry.file) && check.output.contains(entry.configKey), "\(check.output)")
        }
        // The same check passes for a good pair.
        let goodPath = pki.path("good.yaml")
        try TLSProxy.tlsYAML(certificate: pki.serverCertificate, key: pki.serverKey).write(toFile: goodPath, atomically: true, encoding: .utf8)
        let check = try await ClientCommand.run(try TestBinaries.reprise.path, ["check-config", goodPath])
        #expect(check.exitCode == 0, "\(check.output)")
    }

    // MARK: - Hostile and vanishing clients

    @Test func garbageAndStalledHandshakesNeitherCrashNorLeak() async throws {
        try await withTLSProxy(yaml: {
            TLSProxy.tlsYAML(certificate: $0.serverCertificate, key: $0.serverKey, extra: ["handshake_timeout: 5s"])
        }) { pki, _, proxy in
            let warm = try await curl(completionsURL(proxy), pki: pki)
            #expect(warm.status == 200, "\(warm.raw)")
            let baseline = try await proxy.waitForDescriptors(timeout: .seconds(3)) { _ in false }

            // Plain HTTP, random bytes and a record header announcing nonsense: each is cut.
            var garbage: [[UInt8]] = [Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), [0x16, 0x03, 0x01, 0xFF, 0xFF] + Array(repeating: 0x41, count: 300)]
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<18 { garbage.append((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
            for bytes in garbage {
                let connection = try RawHTTPConnection(port: proxy.httpsPort, timeout: 30)
                try? connection.send(bytes)
                #expect(connection.waitForClose(), "reprise kept a garbage connection open")
            }

            // Clients that stop mid-handshake: half a ClientHello, then silence. They hold
            // descriptors until the handshake timeout cuts them.
            let partialHello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03] + Array(repeating: 0x11, count: 32)
            var stalled: [RawHTTPConnection] = []
            for _ in 0..<20 {
                let connection = try RawHTTPConnection(port: proxy.httpsPort, timeout: 30)
                try connection.send(partialHello)
                stalled.append(connection)
            }
            let during = try await proxy.waitForDescriptors(timeout: .seconds(5)) { $0 >= baseline + 20 }
            // The count does see open connections (so the leak check below can fail).
            #expect(during >= baseline + 20, "during \(during), baseline \(baseline)")
            for connection in stalled {
                #expect(connection.waitForClose(), "a stalled handshake was never cut")
            }
            stalled.removeAll()

            let after = try await proxy.waitForDescriptors { $0 <= baseline + 2 }
            #expect(after <= baseline + 2, "descriptors: \(baseline) before, \(after) after")
            let answer = try await curl(completionsURL(proxy), pki: pki)
            #expect(answer.status == 200, "\(answer.raw)")
            #expect(proxy.process.isRunning)
        }
    }

    @Test func aClientVanishingMidStreamNeitherCrashesNorLeaks() async throws {
        try await withTLSProxy { pki, _, proxy in
            let warm = try await curl(completionsURL(proxy), pki: pki)
            #expect(warm.status == 200, "\(warm.raw)")
            let baseline = try await proxy.waitForDescriptors(timeout: .seconds(3)) { _ in false }
            for round in 0..<8 {
                let body = #"{"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"vanishing \#(round) \#(UUID().uuidString)"}]}"#
                let client = try ManagedProcess(
                    executable: URL(fileURLWithPath: "/usr/bin/curl"),
                    arguments: ["-sS", "-N", "--http1.1", "--max-time", "60", "--cacert", pki.caCertificate,
                                "-H", "Content-Type: application/json", "-H", "Authorization: Bearer sk-tenant-tls",
                                "-H", "X-Mock-Chunk-Delay-Ms: 200", "-H", "X-Mock-Chunks: 40",
                                "--data-binary", body, completionsURL(proxy)]
                )
                _ = try await client.waitForOutput(matching: "data: ", timeout: .seconds(30))
                client.kill(signal: SIGKILL)
                _ = try await client.waitForExit(timeout: .seconds(10))
            }
            let after = try await proxy.waitForDescriptors(timeout: .seconds(40)) { $0 <= baseline + 2 }
            #expect(after <= baseline + 2, "descriptors: \(baseline) before, \(after) after")
            let answer = try await curl(completionsURL(proxy), pki: pki, body: Self.streamed, extra: ["-N"])
            #expect(answer.status == 200, "\(answer.raw)")
            #expect(answer.body.hasSuffix("data: [DONE]\n\n"))
            #expect(proxy.process.isRunning)
        }
    }
}
