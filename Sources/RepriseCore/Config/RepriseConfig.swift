/// The whole configuration file (`config/reprise.yaml` documents every key and its default).
///
/// Decoding rejects unknown keys and wrong types with the key path; `validate()` then checks
/// values that are well-typed but impossible (a zero timeout, a limit beyond what the HTTP
/// parser can hold).
public struct RepriseConfig: Sendable, Decodable {
    public var server = ServerConfig()
    public var upstream = UpstreamConfig()
    /// `upstreams:` — named upstreams routes can send variants to (`upstream:` is `default`).
    public var upstreams: [String: UpstreamConfig] = [:]
    public var routing = RoutingConfig()
    public var cache = CacheConfig()
    public var coalescing = CoalescingConfig()
    public var admin = AdminConfig()
    public var logging = LoggingConfig()
    public var metrics = MetricsConfig()
    public var auth = AuthConfig()
    public var limits = LimitsConfig()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case server, upstream, upstreams, routing, cache, coalescing, admin, logging, metrics
        case auth, limits
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        server = try container.decode(.server, default: ServerConfig())
        upstream = try container.decode(.upstream, default: UpstreamConfig())
        upstreams = try container.decode(.upstreams, default: [:])
        routing = try container.decode(.routing, default: RoutingConfig())
        cache = try container.decode(.cache, default: CacheConfig())
        coalescing = try container.decode(.coalescing, default: CoalescingConfig())
        admin = try container.decode(.admin, default: AdminConfig())
        logging = try container.decode(.logging, default: LoggingConfig())
        metrics = try container.decode(.metrics, default: MetricsConfig())
        auth = try container.decode(.auth, default: AuthConfig())
        limits = try container.decode(.limits, default: LimitsConfig())
    }

    /// Every impossible value, each with its key path; empty when the configuration is usable.
    public func validate() -> [ConfigError] {
        let sections = server.validate() + upstream.validate() + validateNamedUpstreams() + routing.validate(upstreams: upstreamNames)
            + cache.validate() + coalescing.validate() + admin.validate() + metrics.validate()
        return sections + auth.validate() + limits.validate(redisConfigured: cache.enabled && cache.redis.isEnabled)
    }

    /// Every upstream a variant may name: `default` (the `upstream:` section) and `upstreams:`.
    public var upstreamNames: Set<String> { Set(upstreams.keys).union(["default"]) }

    private func validateNamedUpstreams() -> [ConfigError] {
        upstreams.keys.sorted().flatMap { name -> [ConfigError] in
            guard name != "default", RoutingConfig.isLabel(name) else {
                return [ConfigError(keyPath: "upstreams.\(name)", "an upstream name is 1-64 letters, digits, '-' or '_', and not 'default' (the upstream: section)")]
            }
            // The section's checks name `upstream.KEY`: point them at this entry instead.
            return upstreams[name]!.validate().map { problem in
                var renamed = problem
                if renamed.keyPath.hasPrefix("upstream.") {
                    renamed.keyPath = "upstreams.\(name)." + renamed.keyPath.dropFirst("upstream.".count)
                }
                return renamed
            }
        }
    }
}

/// `server:` — the client-facing HTTP listener and its limits.
public struct ServerConfig: Sendable, Decodable {
    /// The llhttp parser inside NIOHTTP1 refuses header blocks above 80 KiB by itself.
    public static let parserHeaderLimit = 80 * 1024

    public var listen = ListenAddress(host: "127.0.0.1", port: 8080)
    /// Event loop threads; 0 means one per CPU core.
    public var threads = 0
    public var maxBodyBytes = ConfigByteSize.mebibytes(10)
    public var maxHeaderBytes = ConfigByteSize.kibibytes(64)
    /// A keep-alive connection with no request in progress is closed after this long.
    public var idleTimeout = ConfigDuration.seconds(60)
    /// Time allowed to receive one whole request (head and body) once it started; 408 after.
    public var requestTimeout = ConfigDuration.seconds(30)
    /// On SIGTERM/SIGINT, in-flight requests get this long to finish before connections are cut.
    public var shutdownGracePeriod = ConfigDuration.seconds(25)
    /// On SIGTERM, readiness turns false at once but the listener keeps accepting this long, so
    /// Kubernetes stops routing new requests here before connections are refused.
    public var drainDelay = ConfigDuration.seconds(2)
    /// Client connections open at once, plain and TLS listeners together; a connection over the
    /// cap gets a 503 (`too_many_connections`) and is closed.
    public var maxConnections = 4096
    public var tls = TLSConfig()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, threads, tls
        case maxBodyBytes = "max_body_bytes"
        case maxHeaderBytes = "max_header_bytes"
        case idleTimeout = "idle_timeout"
        case requestTimeout = "request_timeout"
        case shutdownGracePeriod = "shutdown_grace_period"
        case drainDelay = "drain_delay"
        case maxConnections = "max_connections"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ServerConfig()
        listen = try container.decode(.listen, default: defaults.listen)
        threads = try container.decode(.threads, default: defaults.threads)
        maxBodyBytes = try container.decode(.maxBodyBytes, default: defaults.maxBodyBytes)
        maxHeaderBytes = try container.decode(.maxHeaderBytes, default: defaults.maxHeaderBytes)
        idleTimeout = try container.decode(.idleTimeout, default: defaults.idleTimeout)
        requestTimeout = try container.decode(.requestTimeout, default: defaults.requestTimeout)
        shutdownGracePeriod = try container.decode(.shutdownGracePeriod, default: defaults.shutdownGracePeriod)
        drainDelay = try container.decode(.drainDelay, default: defaults.drainDelay)
        maxConnections = try container.decode(.maxConnections, default: defaults.maxConnections)
        tls = try container.decode(.tls, default: defaults.tls)
    }

    func validate() -> [ConfigError] {
        var problems: [ConfigError] = []
        if !(0...256).contains(threads) {
            problems.append(ConfigError(keyPath: "server.threads", "must be between 0 (one per core) and 256, got \(threads)"))
        }
        if maxBodyBytes.bytes < 1 {
            problems.append(ConfigError(keyPath: "server.max_body_bytes", "must be at least 1 byte"))
        }
        if maxHeaderBytes.bytes < 1024 || maxHeaderBytes.bytes > Self.parserHeaderLimit {
            problems.append(ConfigError(
                keyPath: "server.max_header_bytes",
                "must be between 1KiB and 80KiB (the HTTP parser's own limit), got \(maxHeaderBytes)"
            ))
        }
        if maxConnections < 1 {
            problems.append(ConfigError(keyPath: "server.max_connections", "must be at least 1, got \(maxConnections)"))
        }
        for (key, value) in [("idle_timeout", idleTimeout), ("request_timeout", requestTimeout)] where value.nanoseconds <= 0 {
            problems.append(ConfigError(keyPath: "server.\(key)", "must be greater than 0"))
        }
        return problems + tls.validate()
    }
}

/// `upstream:` — where requests go and how long Reprise waits for them.
public struct UpstreamConfig: Sendable, Decodable {
    public static let defaultURL = UpstreamURL(parsing: "https://api.deepseek.com")!

    public var url = UpstreamConfig.defaultURL
    public var connectTimeout = ConfigDuration.seconds(10)
    /// Longest silence while waiting for the response head or between two body chunks.
    public var readTimeout = ConfigDuration.seconds(300)
    /// Whole request, first byte sent to last byte received (long generations stream for minutes).
    public var totalTimeout = ConfigDuration.seconds(600)
    public var maxConnectionsPerLoop = 1024
    /// Longest wait for the response head of one attempt (time to first byte); then the attempt
    /// fails and may be retried.
    public var firstByteTimeout = ConfigDuration.seconds(60)
    /// Used while the primary upstream's circuit is open; unset: fail fast with 503.
    public var fallbackURL: UpstreamURL?
    public var retry = RetryConfig()
    public var circuitBreaker = CircuitBreakerConfig()
    /// PEM CA bundle trusted for `https://` upstreams *instead of* the system trust store
    /// (a private CA: service mesh, corporate gateway, a local TLS mock); empty: the system store.
    public var caFile = ""
    /// PEM client certificate chain (leaf first) presented to `https://` upstreams that require
    /// mTLS; set together with `clientKey`.
    public var clientCertificate = ""
    /// Unencrypted PEM private key of `clientCertificate`.
    public var clientKey = ""

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, retry
        case caFile = "ca_file"
        case clientCertificate = "client_certificate"
        case clientKey = "client_key"
        case firstByteTimeout = "first_byte_timeout"
        case fallbackURL = "fallback_url"
        case circuitBreaker = "circuit_breaker"
        case connectTimeout = "connect_timeout"
        case readTimeout = "read_timeout"
        case totalTimeout = "total_timeout"
        case maxConnectionsPerLoop = "max_connections_per_loop"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = UpstreamConfig()
        url = try container.decode(.url, default: defaults.url)
        connectTimeout = try container.decode(.connectTimeout, default: defaults.connectTimeout)
        readTimeout = try container.decode(.readTimeout, default: defaults.readTimeout)
        totalTimeout = try container.decode(.totalTimeout, default: defaults.totalTimeout)
        maxConnectionsPerLoop = try container.decode(.maxConnectionsPerLoop, default: defaults.maxConnectionsPerLoop)
        firstByteTimeout = try container.decode(.firstByteTimeout, default: defaults.firstByteTimeout)
        fallbackURL = try container.decodeIfPresent(UpstreamURL.self, forKey: .fallbackURL)
        retry = try container.decode(.retry, default: defaults.retry)
        circuitBreaker = try container.decode(.circuitBreaker, default: defaults.circuitBreaker)
        caFile = try container.decode(.caFile, default: defaults.caFile)
        clientCertificate = try container.decode(.clientCertificate, default: defaults.clientCertificate)
        clientKey = try container.decode(.clientKey, default: defaults.clientKey)
    }

    /// Some upstream (the primary or the fallback) is called over TLS.
    public var usesTLS: Bool {
        url.isTLS || fallbackURL?.isTLS == true
    }

    func validate() -> [ConfigError] {
        var problems: [ConfigError] = []
        for (key, value) in [("connect_timeout", connectTimeout), ("read_timeout", readTimeout), ("total_timeout", totalTimeout),
                             ("first_byte_timeout", firstByteTimeout)]
        where value.nanoseconds <= 0 {
            problems.append(ConfigError(keyPath: "upstream.\(key)", "must be greater than 0"))
        }
        if !(1...10_000).contains(maxConnectionsPerLoop) {
            problems.append(ConfigError(keyPath: "upstream.max_connections_per_loop", "must be between 1 and 10000, got \(maxConnectionsPerLoop)"))
        }
        if clientCertificate.isEmpty != clientKey.isEmpty {
            let missing = clientCertificate.isEmpty ? "upstream.client_certificate" : "upstream.client_key"
            problems.append(ConfigError(keyPath: missing, "required with \(clientCertificate.isEmpty ? "upstream.client_key" : "upstream.client_certificate") (a client certificate and its key go together)"))
        }
        return problems + retry.validate() + (circuitBreaker.enabled ? circuitBreaker.validate() : [])
    }
}

/// `logging:` — level and line format.
public struct LoggingConfig: Sendable, Decodable {
    public enum Level: String, Sendable, Decodable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    public enum Format: String, Sendable, Decodable, CaseIterable {
        case text, json
    }

    public var level = Level.info
    public var format = Format.text
    /// One JSON line per request (at `info`; a higher `level` silences it too).
    public var accessLog = true
    /// Adds the request body (the prompt) and the first bytes of the answer to each access line
    /// at level `debug`. Prompts and answers are user data: start-up warns when this is on.
    public var logBodies = false

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case level, format
        case accessLog = "access_log"
        case logBodies = "log_bodies"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        level = try container.decode(.level, default: .info)
        format = try container.decode(.format, default: .text)
        accessLog = try container.decode(.accessLog, default: true)
        logBodies = try container.decode(.logBodies, default: false)
    }
}
