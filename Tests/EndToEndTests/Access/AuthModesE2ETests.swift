import Foundation
import NIOHTTP1
import Testing

/// `auth.mode` against the real binary and the mock upstream (whose `/_mock/last-request`
/// shows the headers it received).
@Suite(.serialized) struct AuthModesE2ETests {
    static let keysYAML = """
        logging:
          access_log: true
        auth:
          mode: keys
          upstream_key: env:REPRISE_E2E_UPSTREAM_KEY
          keys:
            - name: team-alpha
              key_sha256: \(TestKeys.alphaSHA256)
            - name: team-beta
              key_sha256: \(TestKeys.betaSHA256)
              models: [deepseek-chat]
              max_tokens: 100
              max_tokens_mode: clamp

        """

    @Test func keysModeRefusesMissingAndUnknownKeysInOpenAIsShape() async throws {
        try await withAccessBed { bed in
            let proxy = try await bed.start(Self.keysYAML)
            let body = AccessRequest.chat("who \(UUID().uuidString)")
            for (label, headers) in [("none", [(String, String)]()), ("unknown", [("Authorization", "Bearer \(TestKeys.gamma)")]),
                                     ("the upstream's own", [("Authorization", "Bearer \(TestKeys.upstream)")]),
                                     ("basic", [("Authorization", "Basic \(TestKeys.alpha)")]), ("a prefix", [("api-key", String(TestKeys.alpha.dropLast()))])] {
                let response = try await AccessRequest.send(proxy, key: nil, body: body, headers: headers)
                #expect(response.status == 401, "\(label)")
                let error = try #require(try response.json()["error"] as? [String: Any])
                #expect(error["type"] as? String == "invalid_request_error", "\(label)")
                #expect(error["code"] as? String == "invalid_api_key", "\(label)")
                #expect((error["message"] as? String)?.isEmpty == false)
            }
            #expect(try await bed.mock.stats().requests == 0)
        }
    }

    @Test func theUpstreamSeesTheInjectedKeyNeverTheClients() async throws {
        try await withAccessBed { bed in
            let proxy = try await bed.start(Self.keysYAML)
            let bearer = try await AccessRequest.send(proxy, key: TestKeys.alpha, body: AccessRequest.chat("inject \(UUID().uuidString)"),
                                                      headers: [("x-api-key", "client-extra-credential")])
            #expect(bearer.status == 200)
            var seen = try #require(try await bed.mock.lastRequest())
            #expect(seen.headers["authorization"] == "Bearer \(TestKeys.upstream)")
            #expect(seen.headers["x-api-key"] == nil && seen.headers["api-key"] == nil)
            // Azure style: the key in api-key.
            let azure = try await AccessRequest.send(proxy, key: nil, body: AccessRequest.chat("azure \(UUID().uuidString)"),
                                                     headers: [("api-key", TestKeys.alpha)])
            #expect(azure.status == 200)
            seen = try #require(try await bed.mock.lastRequest())
            #expect(seen.headers["authorization"] == "Bearer \(TestKeys.upstream)")
            #expect(seen.headers["api-key"] == nil)
            // A request the cache does not take (it goes upstream by the bypass path) and a
            // streamed one: the credential is replaced on every way upstream.
            let models = try await TestHTTP.send(.GET, proxy.url("/v1/models"), headers: [("Authorization", "Bearer \(TestKeys.alpha)")])
            #expect(models.status == 200)
            seen = try #require(try await bed.mock.lastRequest())
            #expect(seen.path.hasSuffix("/models") && seen.headers["authorization"] == "Bearer \(TestKeys.upstream)")
            let streamed = try await AccessRequest.send(proxy, key: TestKeys.alpha, body: AccessRequest.chat("stream \(UUID().uuidString)", extra: #""stream":true,"#))
            #expect(streamed.status == 200)
            seen = try #require(try await bed.mock.lastRequest())
            #expect(seen.headers["authorization"] == "Bearer \(TestKeys.upstream)")
            // Nothing secret in the logs or the metrics.
            let metrics = try await TestHTTP.send(.GET, proxy.url("/metrics")).text
            try await Task.sleep(for: .milliseconds(300))
            for secret in [TestKeys.alpha, TestKeys.upstream] {
                #expect(!bed.logs.contains(secret) && !metrics.contains(secret))
            }
            #expect(bed.logs.contains("\"client\":\"team-alpha\""))
        }
    }

    @Test func eachKeyIsItsOwnCacheTenant() async throws {
        try await withAccessBed { bed in
            let proxy = try await bed.start(Self.keysYAML)
            let body = AccessRequest.chat("tenant \(UUID().uuidString)")
            let alphaFirst = try await AccessRequest.send(proxy, key: TestKeys.alpha, body: body)
            let alphaAgain = try await AccessRequest.send(proxy, key: TestKeys.alpha, body: body)
            let betaFirst = try await AccessRequest.send(proxy, key: TestKeys.beta, body: body)
            #expect(alphaFirst.headers.first(name: "x-cache") == "MISS")
            #expect(alphaAgain.headers.first(name: "x-cache") == "HIT")
            #expect(betaFirst.headers.first(name: "x-cache") == "MISS")
        }
    }

    @Test func perKeyModelsAndTokenCaps() async throws {
        try await withAccessBed { bed in
            let proxy = try await bed.start(Self.keysYAML)
            let other = try await AccessRequest.send(proxy, key: TestKeys.beta, body: AccessRequest.chat("m \(UUID().uuidString)", model: "deepseek-reasoner"))
            #expect(other.status == 403)
            #expect(AccessRequest.errorCode(other) == "model_not_allowed")
            #expect(try await AccessRequest.send(proxy, key: TestKeys.alpha, body: AccessRequest.chat("m \(UUID().uuidString)", model: "deepseek-reasoner")).status == 200)

            // Clamped: the body the upstream got is the sent one with 5000 rewritten to 100.
            let over = AccessRequest.chat("cap \(UUID().uuidString)", extra: #""max_tokens":5000,"#)
            #expect(try await AccessRequest.send(proxy, key: TestKeys.beta, body: over).status == 200)
            let seenOver = try await bed.mock.lastRequest()?.bodyBytes
            #expect(seenOver == over.utf8.count - 1, "sent \(over.utf8.count)")
            // No bound named: the cap is added.
            let none = AccessRequest.chat("cap \(UUID().uuidString)")
            #expect(try await AccessRequest.send(proxy, key: TestKeys.beta, body: none).status == 200)
            #expect(try await bed.mock.lastRequest()?.bodyBytes == none.utf8.count + #""max_tokens":100,"#.utf8.count)
        }
    }

    @Test func refuseModeAnswers400() async throws {
        let hash = "e21be7ee666aa9c062a3db20b9378d057bb9c72aebddbac3d8de55055d6e6693"
        try await withAccessBed { bed in
            let refusing = try await bed.start("""
                auth:
                  mode: keys
                  upstream_key: env:REPRISE_E2E_UPSTREAM_KEY
                  keys:
                    - {name: team-gamma, key_sha256: \(hash), max_tokens: 100, max_tokens_mode: refuse}

                """)
            let over = try await AccessRequest.send(refusing, key: TestKeys.gamma,
                                                    body: AccessRequest.chat("refuse \(UUID().uuidString)", extra: #""max_completion_tokens":101,"#))
            #expect(over.status == 400)
            #expect(AccessRequest.errorCode(over) == "max_tokens_exceeded")
            let within = try await AccessRequest.send(refusing, key: TestKeys.gamma,
                                                      body: AccessRequest.chat("refuse \(UUID().uuidString)", extra: #""max_completion_tokens":100,"#))
            #expect(within.status == 200)
        }
    }

    @Test func keysFromAMountedFileJoinTheConfiguredOnes() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-keys-\(UUID().uuidString).yaml").path
        try "- name: team-gamma\n  key_sha256: e21be7ee666aa9c062a3db20b9378d057bb9c72aebddbac3d8de55055d6e6693\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await withAccessBed { bed in
            let proxy = try await bed.start(Self.keysYAML + "  keys_file: \(file)\n")
            #expect(try await AccessRequest.send(proxy, key: TestKeys.gamma, body: AccessRequest.chat("file \(UUID().uuidString)")).status == 200)
            #expect(try await AccessRequest.send(proxy, key: TestKeys.alpha, body: AccessRequest.chat("file \(UUID().uuidString)")).status == 200)
        }
        // A file repeating a configured key's name stops start-up, naming both lists.
        try "- {name: team-alpha, key_sha256: e21be7ee666aa9c062a3db20b9378d057bb9c72aebddbac3d8de55055d6e6693}\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let configPath = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-\(UUID().uuidString).yaml").path
        try (Self.keysYAML + "  keys_file: \(file)\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: configPath) }
        let check = try ManagedProcess(executable: try TestBinaries.reprise, arguments: ["check-config", configPath], environment: TestKeys.environment)
        #expect(try await check.waitForExit(timeout: .seconds(30)) == 78)
        #expect(check.stderr.contains("auth.keys + auth.keys_file[2].name"), "\(check.stderr)")
    }

    @Test func passthroughForwardsTheClientsCredential() async throws {
        try await withAccessBed { bed in
            let proxy = try await bed.start("")
            let response = try await AccessRequest.send(proxy, key: "sk-client-own-key", body: AccessRequest.chat("pass \(UUID().uuidString)"))
            #expect(response.status == 200)
            #expect(try await bed.mock.lastRequest()?.headers["authorization"] == "Bearer sk-client-own-key")
            let anonymous = try await AccessRequest.send(proxy, key: nil, body: AccessRequest.chat("pass \(UUID().uuidString)"))
            #expect(anonymous.status == 200)
        }
    }
}
