import Foundation
import Testing
@testable import RepriseCore

@Suite struct ConfigLoaderTests {
    private func problems(_ yaml: String, environment: [String: String] = [:]) -> [ConfigError] {
        do {
            _ = try ConfigLoader.parse(yaml: yaml, environment: environment)
            return []
        } catch let error as ConfigFileError {
            return error.problems
        } catch {
            Issue.record("unexpected error type: \(error)")
            return []
        }
    }

    @Test func emptyDocumentMeansDefaults() throws {
        let config = try ConfigLoader.parse(yaml: "")
        #expect(config.server.listen == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(config.upstream.url.description == "https://api.deepseek.com")
        #expect(config.server.maxBodyBytes == .mebibytes(10))
    }

    @Test func shippedConfigFileIsValidAndEqualsTheDefaults() throws {
        let file = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/reprise.yaml").path
        let loaded = try ConfigLoader.load(file: file)
        let defaults = RepriseConfig()
        #expect(loaded.server.listen == defaults.server.listen)
        #expect(loaded.server.threads == defaults.server.threads)
        #expect(loaded.server.maxBodyBytes == defaults.server.maxBodyBytes)
        #expect(loaded.server.maxHeaderBytes == defaults.server.maxHeaderBytes)
        #expect(loaded.server.idleTimeout == defaults.server.idleTimeout)
        #expect(loaded.server.requestTimeout == defaults.server.requestTimeout)
        #expect(loaded.server.shutdownGracePeriod == defaults.server.shutdownGracePeriod)
        #expect(loaded.upstream.url == defaults.upstream.url)
        #expect(loaded.upstream.connectTimeout == defaults.upstream.connectTimeout)
        #expect(loaded.upstream.readTimeout == defaults.upstream.readTimeout)
        #expect(loaded.upstream.totalTimeout == defaults.upstream.totalTimeout)
        #expect(loaded.upstream.maxConnectionsPerLoop == defaults.upstream.maxConnectionsPerLoop)
        #expect(loaded.upstream.caFile == defaults.upstream.caFile)
        #expect(loaded.upstream.clientCertificate == defaults.upstream.clientCertificate)
        #expect(loaded.upstream.clientKey == defaults.upstream.clientKey)
        #expect(loaded.cache.enabled == defaults.cache.enabled)
        #expect(loaded.cache.ttl == defaults.cache.ttl)
        #expect(loaded.cache.maxTTL == defaults.cache.maxTTL)
        #expect(loaded.cache.namespace == defaults.cache.namespace)
        #expect(loaded.cache.anonymous == defaults.cache.anonymous)
        #expect(loaded.cache.paths == defaults.cache.paths)
        #expect(loaded.cache.getPaths == defaults.cache.getPaths)
        #expect(loaded.cache.getTTL == defaults.cache.getTTL)
        #expect(loaded.cache.ignoredFields == defaults.cache.ignoredFields)
        #expect(loaded.cache.secret == defaults.cache.secret)
        #expect(loaded.cache.nonDeterministic == defaults.cache.nonDeterministic)
        #expect(loaded.cache.maxEntryBytes == defaults.cache.maxEntryBytes)
        #expect(loaded.cache.memory.enabled == defaults.cache.memory.enabled)
        #expect(loaded.cache.memory.maxBytes == defaults.cache.memory.maxBytes)
        #expect(loaded.admin.token == defaults.admin.token)
        #expect(loaded.server.drainDelay == defaults.server.drainDelay)
        #expect(loaded.server.tls.isEnabled == false)
        #expect(loaded.server.tls.minVersion == defaults.server.tls.minVersion)
        #expect(loaded.server.tls.handshakeTimeout == defaults.server.tls.handshakeTimeout)
        #expect(loaded.server.tls.reloadInterval == defaults.server.tls.reloadInterval)
        #expect(loaded.upstream.firstByteTimeout == defaults.upstream.firstByteTimeout)
        #expect(loaded.upstream.fallbackURL == nil)
        #expect(loaded.upstream.retry.maxAttempts == defaults.upstream.retry.maxAttempts)
        #expect(loaded.upstream.retry.baseDelay == defaults.upstream.retry.baseDelay)
        #expect(loaded.upstream.retry.maxDelay == defaults.upstream.retry.maxDelay)
        #expect(loaded.upstream.retry.maxRetryAfter == defaults.upstream.retry.maxRetryAfter)
        #expect(loaded.upstream.retry.budgetRatio == defaults.upstream.retry.budgetRatio)
        #expect(loaded.upstream.retry.budgetMinPerSecond == defaults.upstream.retry.budgetMinPerSecond)
        #expect(loaded.upstream.retry.budgetWindow == defaults.upstream.retry.budgetWindow)
        #expect(loaded.upstream.circuitBreaker.enabled == defaults.upstream.circuitBreaker.enabled)
        #expect(loaded.upstream.circuitBreaker.failureRate == defaults.upstream.circuitBreaker.failureRate)
        #expect(loaded.upstream.circuitBreaker.minimumRequests == defaults.upstream.circuitBreaker.minimumRequests)
        #expect(loaded.upstream.circuitBreaker.window == defaults.upstream.circuitBreaker.window)
        #expect(loaded.upstream.circuitBreaker.consecutiveFailures == defaults.upstream.circuitBreaker.consecutiveFailures)
        #expect(loaded.upstream.circuitBreaker.openDuration == defaults.upstream.circuitBreaker.openDuration)
        #expect(loaded.upstream.circuitBreaker.halfOpenProbes == defaults.upstream.circuitBreaker.halfOpenProbes)
        #expect(loaded.upstream.circuitBreaker.halfOpenSuccesses == defaults.upstream.circuitBreaker.halfOpenSuccesses)
        #expect(loaded.coalescing.enabled == defaults.coalescing.enabled)
        #expect(loaded.coalescing.maxFollowers == defaults.coalescing.maxFollowers)
        #expect(loaded.coalescing.maxFlights == defaults.coalescing.maxFlights)
        #expect(loaded.cache.redis.url == defaults.cache.redis.url)
        #expect(loaded.cache.redis.poolSize == defaults.cache.redis.poolSize)
        #expect(loaded.cache.redis.connectTimeout == defaults.cache.redis.connectTimeout)
        #expect(loaded.cache.redis.commandTimeout == defaults.cache.redis.commandTimeout)
        #expect(loaded.cache.redis.lookupTimeout == defaults.cache.redis.lookupTimeout)
        #expect(loaded.cache.redis.breakerFailures == defaults.cache.redis.breakerFailures)
        #expect(loaded.cache.redis.breakerProbeInterval == defaults.cache.redis.breakerProbeInterval)
        #expect(loaded.logging.level == defaults.logging.level)
        #expect(loaded.logging.format == defaults.logging.format)
    }

    @Test func goodFileWithEveryKindOfValue() throws {
        let config = try ConfigLoader.parse(yaml: """
            server:
              listen: "[::1]:0"
              threads: 2
              max_body_bytes: 512KiB
              max_header_bytes: 16384
              idle_timeout: 250ms
              request_timeout: 1.5
              shutdown_grace_period: 1m
            upstream:
              url: http://127.0.0.1:9090/openai/
              connect_timeout: 2s
            logging:
              level: debug
              format: json
            """)
        #expect(config.server.listen == ListenAddress(host: "::1", port: 0))
        #expect(config.server.threads == 2)
        #expect(config.server.maxBodyBytes.bytes == 512 * 1024)
        #expect(config.server.maxHeaderBytes.bytes == 16384)
        #expect(config.server.idleTimeout == .milliseconds(250))
        #expect(config.server.requestTimeout == .milliseconds(1500))
        #expect(config.server.shutdownGracePeriod == .seconds(60))
        #expect(config.upstream.url.origin == "http://127.0.0.1:9090")
        #expect(config.upstream.url.pathPrefix == "/openai")
        #expect(config.logging.format == .json)
    }

    @Test func unknownKeyNamesItsPath() {
        let found = problems("server:\n  listn: 127.0.0.1:1\n")
        #expect(found.map(\.keyPath) == ["server.listn"])
        #expect(found.first?.message.contains("listen") == true)
        #expect(problems("cache_ttl: 5\n").map(\.keyPath) == ["cache_ttl"])
    }

    @Test func wrongTypeNamesItsPath() {
        #expect(problems("server:\n  threads: many\n").map(\.keyPath) == ["server.threads"])
        #expect(problems("server: 5\n").map(\.keyPath) == ["server"])
        #expect(problems("logging:\n  level: loud\n").map(\.keyPath) == ["logging.level"])
        #expect(problems("server:\n  idle_timeout: soon\n").map(\.keyPath) == ["server.idle_timeout"])
        #expect(problems("server:\n  max_body_bytes: 10 parsecs\n").map(\.keyPath) == ["server.max_body_bytes"])
        #expect(problems("server:\n  listen: localhost\n").map(\.keyPath) == ["server.listen"])
        #expect(problems("upstream:\n  url: ftp://example.com\n").map(\.keyPath) == ["upstream.url"])
    }

    /// Files are checked at start by the server (they must exist and parse); here only the pairing.
    @Test func upstreamClientCertificateAndKeyGoTogether() {
        #expect(problems("upstream:\n  client_certificate: /c.pem\n").map(\.keyPath) == ["upstream.client_key"])
        #expect(problems("upstream:\n  client_key: /c.key\n").map(\.keyPath) == ["upstream.client_certificate"])
        #expect(problems("upstream:\n  ca_file: /ca.pem\n  client_certificate: /c.pem\n  client_key: /c.key\n").isEmpty)
    }

    @Test func impossibleValuesAreAllReported() {
        let found = problems("""
            server:
              threads: -1
              max_header_bytes: 1MiB
              idle_timeout: 0s
            upstream:
              total_timeout: 0
              max_connections_per_loop: 0
            """)
        #expect(Set(found.map(\.keyPath)) == [
            "server.threads", "server.max_header_bytes", "server.idle_timeout",
            "upstream.total_timeout", "upstream.max_connections_per_loop",
        ])
    }

    @Test func cacheSection() throws {
        let config = try ConfigLoader.parse(yaml: """
            cache:
              namespace: header:X-Team
              non_deterministic: bypass
              ttl: 10m
              paths: [/v1/chat/completions]
              memory:
                max_bytes: 64MiB
            admin:
              token: ${ADMIN_TOKEN}
            """, environment: ["ADMIN_TOKEN": "0123456789abcdef-admin"])
        #expect(config.cache.namespace == .header("x-team"))
        #expect(config.cache.nonDeterministic == .bypass)
        #expect(config.cache.anonymous == .bypass)
        #expect(try ConfigLoader.parse(yaml: "cache:\n  anonymous: cache\n").cache.anonymous == .cache)
        #expect(config.cache.policy.defaultTTLSeconds == 600)
        #expect(config.cache.memory.maxBytes == .mebibytes(64))
        #expect(config.admin.token == "0123456789abcdef-admin")

        #expect(problems("cache:\n  namespace: tenant\n").map(\.keyPath) == ["cache.namespace"])
        #expect(problems("cache:\n  non_deterministic: sometimes\n").map(\.keyPath) == ["cache.non_deterministic"])
        #expect(problems("cache:\n  anonymous: share\n").map(\.keyPath) == ["cache.anonymous"])
        #expect(problems("cache:\n  memory:\n    size: 1\n").map(\.keyPath) == ["cache.memory.size"])
        #expect(Set(problems("cache:\n  ttl: 2h\n  max_ttl: 1h\n  paths: [v1/x]\n").map(\.keyPath)) == ["cache.max_ttl", "cache.paths[0]"])
        #expect(problems("admin:\n  token: short\n").map(\.keyPath) == ["admin.token"])
        // pool_size: 0 (the default) is a connection per event loop; 1-64 that many.
        #expect(RepriseConfig().cache.redis.poolSize == 0)
        #expect(try ConfigLoader.parse(yaml: "cache:\n  redis:\n    pool_size: 8\n").cache.redis.poolSize == 8)
        #expect(problems("cache:\n  redis:\n    pool_size: 65\n").map(\.keyPath) == ["cache.redis.pool_size"])
        #expect(problems("cache:\n  redis:\n    pool_size: -1\n").map(\.keyPath) == ["cache.redis.pool_size"])
    }

    @Test func cachedGetPathsAndTheirTTL() throws {
        let defaults = try ConfigLoader.parse(yaml: "")
        #expect(defaults.cache.getPaths == ["/v1/models", "/v1/models/{id}"])
        #expect(defaults.cache.getPolicy.defaultTTLSeconds == 300)
        #expect(defaults.cache.paths.contains("/v1/responses"))
        let config = try ConfigLoader.parse(yaml: "cache:\n  get_paths: [\"/v1/files/{id}\"]\n  get_ttl: 1m\n")
        #expect(config.cache.cacheableGetPaths.contains(normalizedPath: "/files/f1"))
        #expect(!config.cache.cacheableGetPaths.contains(normalizedPath: "/models"))
        #expect(config.cache.getPolicy.defaultTTLSeconds == 60)
        #expect(config.cache.policy.defaultTTLSeconds == 3600)
        #expect(try ConfigLoader.parse(yaml: "cache:\n  get_paths: []\n").cache.cacheableGetPaths.isEmpty)

        #expect(problems("cache:\n  get_paths: [/v1/models, \"models/{id}\"]\n").map(\.keyPath) == ["cache.get_paths[1]"])
        #expect(problems("cache:\n  get_paths: [\"/v1/models/{id\"]\n").map(\.keyPath) == ["cache.get_paths[0]"])
        #expect(problems("cache:\n  get_ttl: 0s\n").map(\.keyPath) == ["cache.get_ttl"])
        #expect(problems("cache:\n  get_ttl: 48h\n").map(\.keyPath) == ["cache.max_ttl"])
    }

    @Test func resilienceAndTLSSections() throws {
        let config = try ConfigLoader.parse(yaml: """
            server:
              tls:
                listen: 0.0.0.0:8443
                certificate: /etc/tls/tls.crt
                private_key: /etc/tls/tls.key
                min_version: "1.3"
            upstream:
              fallback_url: https://backup.example.com
              retry:
                max_attempts: 5
              circuit_breaker:
                consecutive_failures: 0
            coalescing:
              max_followers: 10
            """)
        #expect(config.server.tls.isEnabled)
        #expect(config.server.tls.minVersion == .tls13)
        #expect(config.upstream.fallbackURL?.host == "backup.example.com")
        #expect(config.upstream.retry.maxAttempts == 5)
        #expect(config.upstream.circuitBreaker.consecutiveFailures == 0)
        #expect(config.coalescing.maxFollowers == 10)

        #expect(Set(problems("server:\n  tls:\n    listen: 0.0.0.0:8443\n").map(\.keyPath)) == ["server.tls.certificate", "server.tls.private_key"])
        #expect(problems("server:\n  tls:\n    min_version: \"1.1\"\n").map(\.keyPath) == ["server.tls.min_version"])
        #expect(problems("upstream:\n  retry:\n    max_attempts: 0\n").map(\.keyPath) == ["upstream.retry.max_attempts"])
        #expect(problems("upstream:\n  circuit_breaker:\n    failure_rate: 2\n").map(\.keyPath) == ["upstream.circuit_breaker.failure_rate"])
        #expect(problems("upstream:\n  retry:\n    attempts: 2\n").map(\.keyPath) == ["upstream.retry.attempts"])
        #expect(problems("cache:\n  redis:\n    url: rediss://x\n").map(\.keyPath) == ["cache.redis.url"])
        #expect(problems("coalescing:\n  max_flights: 0\n").map(\.keyPath) == ["coalescing.max_flights"])
    }

    @Test func notYAMLOrNotAMapping() {
        #expect(problems("server: [unclosed\n").count == 1)
        #expect(problems("- a\n- b\n").first?.message.contains("mapping") == true)
    }

    @Test func environmentInterpolation() throws {
        let config = try ConfigLoader.parse(
            yaml: "server:\n  listen: 127.0.0.1:${PORT}\n  threads: ${THREADS:-3}\nupstream:\n  url: ${UPSTREAM}\n",
            environment: ["PORT": "9999", "UPSTREAM": "http://10.0.0.1:81"]
        )
        #expect(config.server.listen.port == 9999)
        #expect(config.server.threads == 3)
        #expect(config.upstream.url.description == "http://10.0.0.1:81")

        let missing = problems("upstream:\n  url: ${NOT_SET_ANYWHERE}\n")
        #expect(missing.map(\.keyPath) == ["upstream.url"])
        #expect(missing.first?.message.contains("NOT_SET_ANYWHERE") == true)
    }

    @Test func interpolationSyntax() throws {
        let env = ["A": "x", "B": "y"]
        #expect(try EnvironmentInterpolation.expand("${A}-${B}", environment: env).get() == "x-y")
        #expect(try EnvironmentInterpolation.expand("$${A} costs $5", environment: env).get() == "${A} costs $5")
        #expect(try EnvironmentInterpolation.expand("${C:-fallback}", environment: env).get() == "fallback")
        #expect(throws: EnvironmentInterpolation.Failure.self) { try EnvironmentInterpolation.expand("${A", environment: env).get() }
        #expect(throws: EnvironmentInterpolation.Failure.self) { try EnvironmentInterpolation.expand("${A B}", environment: env).get() }
    }

    @Test func fileErrorsNameTheFile() {
        do {
            _ = try ConfigLoader.load(file: "/nonexistent/reprise.yaml")
            Issue.record("expected an error")
        } catch let error as ConfigFileError {
            #expect(error.file == "/nonexistent/reprise.yaml")
            #expect(error.description.contains("/nonexistent/reprise.yaml"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func valueParsers() {
        #expect(ConfigDuration(parsing: "1h") == .seconds(3600))
        #expect(ConfigDuration(parsing: "-1s") == nil)
        #expect(ConfigByteSize(parsing: "1GiB")?.bytes == 1 << 30)
        #expect(ConfigByteSize(parsing: "99999999999999999GiB") == nil)
        #expect(ListenAddress(parsing: "0.0.0.0:65536") == nil)
        #expect(ListenAddress(parsing: "::1:80") == nil)
        #expect(UpstreamURL(parsing: "https://user:pw@host") == nil)
        #expect(UpstreamURL(parsing: "https://[::1]:8443/v")?.origin == "https://[::1]:8443")
        #expect(UpstreamURL(parsing: "https://[::1]:8443/v")?.authority == "[::1]:8443")
        #expect(UpstreamURL(parsing: "http://gateway:80/v1")?.authority == "gateway")
    }

    /// A refused upstream URL is often a pasted one that carries a key: the error names the
    /// problem without repeating the secret.
    @Test(arguments: [
        "https://user:s3cret@api.example.com",
        "https://:s3cret@api.example.com/v1",
        "https://api.example.com/v1?key=s3cret",
        "https://api.example.com#s3cret",
    ])
    func upstreamURLErrorsNeverQuoteASecret(url: String) throws {
        let found = problems("upstream:\n  url: \"\(url)\"\n")
        #expect(found.count == 1)
        for problem in found {
            #expect(problem.keyPath == "upstream.url")
            #expect(!"\(problem)".contains("s3cret"), "\(problem)")
            #expect("\(problem)".contains("api.example.com"))
        }
    }
}
