import Testing
@testable import RepriseCore

@Suite("auth and limits configuration")
struct AccessConfigTests {
    static let hash = String(repeating: "ab", count: 32)

    func problems(_ yaml: String) -> [String] {
        do {
            _ = try ConfigLoader.parse(yaml: yaml)
            return []
        } catch let error as ConfigFileError {
            return error.problems.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func defaultsArePassthroughWithoutLimits() throws {
        let config = try ConfigLoader.parse(yaml: "")
        #expect(config.auth.mode == .passthrough)
        #expect(config.limits.defaults.isUnlimited)
        #expect(config.limits.exemptCacheHits)
        #expect(config.limits.backend == .local)
    }

    @Test func keysModeDecodesKeysAndLimits() throws {
        let config = try ConfigLoader.parse(yaml: """
            auth:
              mode: keys
              upstream_key: env:UPSTREAM
              keys:
                - {name: team-a, key_sha256: "\(Self.hash)", models: [m1], max_tokens: 256, max_tokens_mode: refuse, limits: {requests_per_minute: 5}}
            limits: {identity: "header:x-user", tokens_per_minute: 1000, concurrent_requests: 2, exempt_cache_hits: false}
            """)
        #expect(config.auth.upstreamKey?.source == .environment("UPSTREAM"))
        #expect(config.auth.keys == [ClientKeyConfig(name: "team-a", keySHA256: Self.hash, models: ["m1"], maxTokens: 256, maxTokensMode: .refuse,
                                                     limits: RateLimits(requestsPerMinute: 5))])
        #expect(config.limits.identity == .header("x-user"))
        #expect(config.limits.defaults == RateLimits(tokensPerMinute: 1000, concurrentRequests: 2))
        #expect(!config.limits.exemptCacheHits)
    }

    @Test func mistakesNameTheirKey() {
        #expect(problems("auth: {mode: keys}").contains { $0.hasPrefix("auth.upstream_key:") })
        #expect(problems("auth: {mode: keys, upstream_key: env:X}").contains { $0.hasPrefix("auth.keys:") })
        #expect(problems("auth: {mode: open}").contains { $0.hasPrefix("auth.mode:") })
        #expect(problems("auth: {mode: keys, upstream_key: sk-literal}").contains { $0.hasPrefix("auth.upstream_key:") })
        #expect(problems("auth: {mode: keys, upstream_key: env:X, keys: [{name: a, key_sha256: nothex}]}").contains { $0.hasPrefix("auth.keys[0].key_sha256:") })
        #expect(problems("auth: {mode: keys, upstream_key: env:X, keys: [{name: 'a b', key_sha256: \"\(Self.hash)\"}]}").contains { $0.hasPrefix("auth.keys[0].name:") })
        #expect(problems("auth: {mode: keys, upstream_key: env:X, keys: [{name: a, key_sha256: \"\(Self.hash)\", max_tokens_mode: cut}]}")
            .contains { $0.hasPrefix("auth.keys[0].max_tokens_mode:") })
        #expect(problems("auth: {mode: keys, upstream_key: env:X, keys: [{name: a, key_sha256: \"\(Self.hash)\"}, {name: a, key_sha256: \"\(Self.hash)\"}]}")
            .contains { $0.hasPrefix("auth.keys[1].name:") })
        #expect(problems("auth: {keys: [{name: a, key_sha256: \"\(Self.hash)\"}]}").contains { $0.hasPrefix("auth.mode:") })
        #expect(problems("auth: {mode: keys, upstream_key: env:X, keys: [{name: a, key_sha256: \"\(Self.hash)\", secret: x}]}")
            .contains { $0.hasPrefix("auth.keys[0].secret:") })
        #expect(problems("limits: {requests_per_minute: -1}").contains { $0.hasPrefix("limits.requests_per_minute:") })
        #expect(problems("limits: {backend: redis}").contains { $0.hasPrefix("limits.backend:") })
        #expect(problems("limits: {identity: ip}").contains { $0.hasPrefix("limits.identity:") })
        #expect(problems("limits: {rpm: 3}").contains { $0.hasPrefix("limits.rpm:") })
    }

    @Test func aKeysFileIsAListOfKeys() throws {
        let keys = try ClientKeyFile.parse(yaml: "- {name: b, key_sha256: \"\(Self.hash)\", routes: [default]}\n", file: "keys.yaml")
        #expect(keys.map(\.name) == ["b"] && keys[0].routes == ["default"])
        #expect(throws: ConfigFileError.self) { try ClientKeyFile.parse(yaml: "- {name: b}\n", file: "keys.yaml") }
        #expect(throws: ConfigFileError.self) { try ClientKeyFile.parse(yaml: "- {name: b, key_sha256: short}\n", file: "keys.yaml") }
    }

    @Test func secretReferencesLoadWithoutTheirValueInErrors() throws {
        #expect(try SecretReference(parsing: "env:K").load(environment: ["K": " sk-up \n"]) == "sk-up")
        #expect(throws: SecretReferenceError.unsetVariable("K")) { try SecretReference(parsing: "env:K").load(environment: [:]) }
        #expect(throws: SecretReferenceError.notAReference) { try SecretReference(parsing: "sk-up") }
    }
}
