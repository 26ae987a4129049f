import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import RepriseCore
import RepriseRedis
import RepriseTLS
import ServiceLifecycle
import UnixSignals

/// The proxy as a service: binds the listeners (plain HTTP, and HTTPS when `server.tls` is set),
/// serves until a graceful shutdown is requested, then drains (readiness off, stop accepting,
/// let in-flight requests finish within the grace period, close the rest).
public final class ProxyServer: Service {
    private let config: RepriseConfig
    private let logger: Logger
    public let state = ServerState()
    private let threads: Int
    private let tls: TLSContextProvider?
    /// For `https://` upstreams: trust, client certificate and session cache, shared by every
    /// pool (primary and fallback).
    private let upstreamTLS: TLSClientContext?
    /// The same for each of `upstreams:` (its own trust and client certificate).
    private let namedUpstreamTLS: [String: TLSClientContext]
    /// The file `run` watches and re-reads on SIGHUP for `routing:`; nil: no reload.
    private let configFile: String?
    private let redisConfiguration: RedisConfiguration?
    /// Encryption at rest of Redis entries (`cache.encryption_key`).
    private let sealer: EntrySealer?
    /// Every metric (`metrics.enabled`); the executable also hands its registry to swift-metrics.
    let metrics: ProxyMetrics?
    /// The registry `/metrics` renders; nil when `metrics.enabled` is false. The executable
    /// bootstraps swift-metrics with it, so metrics of libraries that use swift-metrics join ours.
    public var metricsRegistry: PrometheusCollectorRegistry? { metrics?.registry }
    private let accessLog: AccessLog?
    /// `auth.mode: keys`, with its keys and the upstream key read at start; nil in passthrough.
    private let access: AccessControl?
    /// Whether any limit is set (`limits:` or a key's own).
    private let hasLimits: Bool

    /// Checks what the configuration names outside itself (certificate files, the Redis URL);
    /// a problem throws a `ConfigFileError` naming the key and the file.
    ///
    /// - Parameter configFile: the file `config` came from; its `routing:` section is reloaded
    ///   when it changes and on SIGHUP.
    public init(config: RepriseConfig, logger: Logger, configFile: String? = nil) throws {
        self.config = config
        self.logger = logger
        self.configFile = configFile
        self.tls = try Self.makeTLSProvider(config.server.tls, logger: logger)
        self.upstreamTLS = try Self.makeUpstreamTLSContext(config.upstream)
        var namedUpstreamTLS: [String: TLSClientContext] = [:]
        for (name, upstream) in config.upstreams {
            do {
                namedUpstreamTLS[name] = try Self.makeUpstreamTLSContext(upstream)
            } catch var error as ConfigFileError {
                error.problems = error.problems.map { problem in
                    var renamed = problem
                    if renamed.keyPath == "upstream" || renamed.keyPath.hasPrefix("upstream.") {
                        renamed.keyPath = "upstreams.\(name)" + renamed.keyPath.dropFirst("upstream".count)
                    }
                    return renamed
                }
                throw error
            }
        }
        self.namedUpstreamTLS = namedUpstreamTLS
        self.redisConfiguration = try Self.makeRedisConfiguration(config.cache, eventLoops: config.server.threads == 0 ? System.coreCount : config.server.threads)
        self.sealer = try Self.makeSealer(config.cache)
        let keys = try Self.loadClientKeys(config.auth)
        self.access = try Self.makeAccessControl(config.auth, keys: keys)
        self.hasLimits = !config.limits.defaults.isUnlimited || keys.contains { !$0.limits.isUnlimited }
        self.threads = config.server.threads == 0 ? System.coreCount : config.server.threads
        self.metrics = config.metrics.enabled
            ? ProxyMetrics(config: config.metrics, version: RepriseBuild.version, hasRedis: redisConfiguration != nil) : nil
        let logging = config.logging
        let accessLevel: LoggingConfig.Level = logging.logBodies ? .debug : .info
        self.accessLog = logging.accessLog && Self.levelRank(logging.level) <= Self.levelRank(accessLevel)
            ? AccessLog(includeBodies: logging.logBodies) : nil
    }

    private static func levelRank(_ level: LoggingConfig.Level) -> Int {
        LoggingConfig.Level.allCases.firstIndex(of: level) ?? 0
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let upstreams = makeUpstreams(group: group)
        let routing = RoutingRuntime(config: config.routing, upstreams: upstreams, metrics: metrics, logger: logger)
        let redis = makeRedisStore(group: group)
        let flagStore = redis.map { FlagStore(client: $0.client, runtime: routing, logger: logger) }
        if let flagStore {
            let logger = self.logger
            routing.onGuardTrip { route, variant in
                flagStore.write(FlagOverride(origin: .guardTrip, basisPoints: 0), route: route, variant: variant).whenFailure { error in
                    logger.error("the guard's trip could not be stored in Redis: other instances keep the variant on", metadata: [
                        "route": "\(route)", "variant": "\(variant)", "error": "\(error)",
                    ])
                }
            }
        }
        let reloader = configFile.map { ConfigReloader(path: $0, routing: routing, metrics: metrics, logger: logger) }
        let cache = ResponseCache(config: config.cache, redis: redis?.store, sealer: sealer, metrics: metrics, logger: logger)
        let accessLog = self.accessLog
        let metricsEndpoint = metrics.map { metrics in
            MetricsEndpoint(path: config.metrics.path, metrics: metrics) {
                ScrapeSources(
                    memory: cache.memoryStats,
                    breakers: upstreams.keys.sorted().flatMap { name in
                        [upstreams[name]!.primary, upstreams[name]!.fallback].compactMap { target in
                            target.flatMap { target in target.breaker.map { (target.metricLabel, $0.state) } }
                        }
                    },
                    redisBreaker: redis?.store.breakerState,
                    redisCounters: redis?.store.counters,
                    accessLogDropped: accessLog?.droppedLines ?? 0,
                    variantWeights: routing.variantWeights
                )
            }
        }
        let responder = ProxyResponder(
            routing: routing, flagStore: flagStore, cache: cache, keyBuilders: CacheKeyBuilders(group: group, config: config.cache, sealer: sealer),
            config: config, state: state, metricsEndpoint: config.metrics.listen == nil ? metricsEndpoint : nil,
            access: access, limiter: hasLimits ? makeLimiter(redis: redis) : nil, logger: logger
        )
        let observer = metrics != nil || accessLog != nil ? RequestObserver(metrics: metrics, accessLog: accessLog) : nil
        if config.logging.logBodies {
            logger.warning("logging.log_bodies is on: prompts and answers are written to the log (user data); turn it off outside debugging")
        }
        var listeners: [Channel] = []
        do {
            listeners.append(try await bind(config.server.listen, scheme: "http", group: group, responder: responder, tls: nil, observer: observer))
            if let tls, let address = config.server.tls.listen {
                listeners.append(try await bind(address, scheme: "https", group: group, responder: responder, tls: tls, observer: observer))
            }
            if let address = config.metrics.listen, let metricsEndpoint {
                listeners.append(try await bind(address, scheme: "metrics", group: group,
                                                responder: MetricsResponder(endpoint: metricsEndpoint, state: state), tls: nil, observer: observer))
            }
        } catch {
            for listener in listeners { try? await listener.close() }
            for targets in upstreams.values { await targets.shutdown() }
            try? await group.shutdownGracefully()
            throw error
        }
        state.setReady(true)
        let flushTask = accessLog.map { accessLog in
            group.next().scheduleRepeatedTask(initialDelay: AccessLog.flushInterval, delay: AccessLog.flushInterval) { _ in accessLog.flush() }
        }

        await withTaskGroup(of: Void.self) { tasks in
            if tls != nil || reloader != nil {
                tasks.addTask { await self.reloadOnSIGHUP(tls: self.tls, reloader: reloader) }
            }
            if let reloader {
                tasks.addTask { await reloader.watch() }
            }
            if let flagStore {
                tasks.addTask { await flagStore.run() }
            }
            if let tls {
                tasks.addTask {
                    await TLSCertificateWatcher(
                        provider: tls, pollInterval: .nanoseconds(self.config.server.tls.reloadInterval.nanoseconds), logger: self.logger
                    ).run()
                }
            }
            try? await gracefulShutdown()
            tasks.cancelAll()
        }

        await drain(listeners: listeners)
        flushTask?.cancel()
        accessLog?.flush()
        accessLog?.waitUntilWritten()
        redis?.store.shutdown()
        try? await redis?.client.shutdown().get()
        for targets in upstreams.values { await targets.shutdown() }
        try? await group.shutdownGracefully()
        logger.info("stopped")
    }

    private func bind(
        _ address: ListenAddress, scheme: String, group: EventLoopGroup, responder: any RequestResponder & Sendable,
        tls: TLSContextProvider?, observer: RequestObserver?
    ) async throws -> Channel {
        let server = config.server
        let limits = ConnectionLimits(
            maxBodyBytes: server.maxBodyBytes.bytes,
            maxHeaderBytes: server.maxHeaderBytes.bytes,
            idleTimeout: .nanoseconds(server.idleTimeout.nanoseconds),
            requestTimeout: .nanoseconds(server.requestTimeout.nanoseconds)
        )
        let handshakeTimeout = TimeAmount.nanoseconds(server.tls.handshakeTimeout.nanoseconds)
        let state = self.state
        let logger = self.logger
        let listener: Channel
        do {
            listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                // One socket read (at most 64 KiB) per wake-up: every request decoded from a read
                // is queued while an answer is waiting for its client, so the batch size bounds
                // what a client that pipelines without reading can make a connection hold (16
                // reads let 20 such clients grow RSS by ~56 MiB); it also lets other connections
                // on the loop in between.
                .childChannelOption(.maxMessagesPerRead, value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let refusal = state.register(channel, limit: server.maxConnections)
                            ? nil : ConnectionRefusal(error: .tooManyConnections(limit: server.maxConnections), afterTLSHandshake: tls != nil)
                        let pipeline = channel.pipeline.syncOperations
                        if let tls {
                            // New connections take the current certificate; a reload swaps it
                            // for the next ones while open connections keep theirs.
                            try pipeline.addHandler(try tls.makeHandler(handshakeTimeout: handshakeTimeout))
                        }
                        // The connection handler parses the bytes itself (llhttp): one hop less.
                        try pipeline.addHandler(HTTPConnectionHandler(responder: responder, limits: limits, logger: logger, refusal: refusal, observer: observer))
                    }
                }
                .bind(host: address.host, port: address.port)
                .get()
        } catch {
            throw ServerStartError(address: address.description, underlying: error)
        }
        let port = listener.localAddress?.port ?? address.port
        let host = address.host.contains(":") ? "[\(address.host)]" : address.host
        // Tests and scripts read this line to learn the port (port 0 in the config).
        FileHandle.standardOutput.write(Data("reprise listening on \(scheme)://\(host):\(port)\n".utf8))
        logger.info("listening", metadata: ["address": "\(scheme)://\(host):\(port)", "upstream": "\(config.upstream.url)"])
        return listener
    }

    /// `default` (the `upstream:` section, metric labels `default` and `fallback` as before
    /// routes existed) and each of `upstreams:` (labels `NAME` and `NAME-fallback`), each with
    /// its own pools, breakers and retry budget.
    private func makeUpstreams(group: EventLoopGroup) -> [String: UpstreamTargets] {
        var upstreams = ["default": makeUpstreamTargets(config.upstream, label: "default", fallbackLabel: "fallback", tls: upstreamTLS, group: group)]
        for (name, upstream) in config.upstreams {
            upstreams[name] = makeUpstreamTargets(upstream, label: name, fallbackLabel: "\(name)-fallback", tls: namedUpstreamTLS[name], group: group)
        }
        return upstreams
    }

    private func makeUpstreamTargets(
        _ upstream: UpstreamConfig, label: String, fallbackLabel: String, tls: TLSClientContext?, group: EventLoopGroup
    ) -> UpstreamTargets {
        let primary = UpstreamTarget(
            name: upstream.url.description, metricLabel: label, client: UpstreamClient(config: upstream, tls: tls, eventLoopGroup: group),
            config: upstream, logger: logger
        )
        let fallback = upstream.fallbackURL.map { url -> UpstreamTarget in
            var fallbackConfig = upstream
            fallbackConfig.url = url
            return UpstreamTarget(name: url.description, metricLabel: fallbackLabel, client: UpstreamClient(config: fallbackConfig, tls: tls, eventLoopGroup: group),
                                  config: fallbackConfig, logger: logger)
        }
        return UpstreamTargets(
            primary: primary, fallback: fallback,
            retryPolicy: upstream.retry.policy(deadline: upstream.totalTimeout),
            firstByteTimeoutNanoseconds: upstream.firstByteTimeout.nanoseconds
        )
    }

    private func drain(listeners: [Channel]) async {
        let grace = config.server.shutdownGracePeriod
        logger.info("shutting down: draining connections", metadata: [
            "open_connections": "\(state.openConnectionCount)",
            "grace_period": "\(grace)",
        ])
        state.setReady(false)
        // Keep accepting a moment so load balancers see /readyz fail before connections are refused.
        try? await Task.sleep(for: .nanoseconds(config.server.drainDelay.nanoseconds))
        for listener in listeners { try? await listener.close() }
        state.drainConnections()
        let deadline = ContinuousClock.now + .nanoseconds(grace.nanoseconds)
        while state.openConnectionCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if state.openConnectionCount > 0 {
            logger.warning("grace period over: closing connections", metadata: ["open_connections": "\(state.openConnectionCount)"])
            state.closeAllConnections()
        }
    }

    /// SIGHUP reloads the certificate (when TLS is on) and the configuration's `routing:`
    /// (when started from a file): one signal handler for both.
    private func reloadOnSIGHUP(tls: TLSContextProvider?, reloader: ConfigReloader?) async {
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            reloader?.reload(trigger: "SIGHUP")
            guard let tls else { continue }
            do {
                let context = try tls.reload()
                metrics?.configReloaded(success: true)
                logger.info("TLS certificate reloaded on SIGHUP", metadata: ["subject": "\(context.certificateSubject)", "serial": "\(context.certificateSerial)"])
            } catch {
                metrics?.configReloaded(success: false)
                logger.error("TLS reload on SIGHUP failed; keeping the current certificate", metadata: ["error": "\(error)"])
            }
        }
    }

    private static func makeTLSProvider(_ tls: TLSConfig, logger: Logger) throws -> TLSContextProvider? {
        guard tls.isEnabled else { return nil }
        let configuration = TLSServerConfiguration(
            certificateChainPath: tls.certificate,
            privateKeyPath: tls.privateKey,
            clientCertificateAuthorityPath: tls.clientCA.isEmpty ? nil : tls.clientCA,
            minimumVersion: tls.minVersion == .tls13 ? .tls13 : .tls12,
            tls12CipherList: tls.ciphers.isEmpty ? TLSServerConfiguration.modernTLS12CipherList : tls.ciphers
        )
        do {
            return try TLSContextProvider(configuration: configuration, logger: logger)
        } catch {
            let key: String
            switch error.path {
            case tls.certificate: key = "server.tls.certificate"
            case tls.privateKey: key = "server.tls.private_key"
            case tls.clientCA where !tls.clientCA.isEmpty: key = "server.tls.client_ca"
            default: key = error.kind == .badSetting ? "server.tls.ciphers" : "server.tls"
            }
            throw ConfigFileError(file: error.path ?? "configuration", problems: [ConfigError(keyPath: key, "\(error)")])
        }
    }

    /// The client context for `https://` upstreams, built when one is configured or when
    /// `upstream.ca_file` or a client certificate is set (so a wrong file stops start-up even
    /// before it is needed). A file that cannot be read or parsed names its key.
    private static func makeUpstreamTLSContext(_ upstream: UpstreamConfig) throws -> TLSClientContext? {
        let filesSet = !upstream.caFile.isEmpty || !upstream.clientCertificate.isEmpty || !upstream.clientKey.isEmpty
        guard upstream.usesTLS || filesSet else { return nil }
        let configuration = TLSClientConfiguration(
            trustedCertificateAuthorityPath: upstream.caFile.isEmpty ? nil : upstream.caFile,
            clientCertificateChainPath: upstream.clientCertificate.isEmpty ? nil : upstream.clientCertificate,
            clientPrivateKeyPath: upstream.clientKey.isEmpty ? nil : upstream.clientKey
        )
        do {
            return try TLSClientContext(configuration: configuration)
        } catch {
            let key: String
            switch error.path {
            case upstream.caFile where !upstream.caFile.isEmpty: key = "upstream.ca_file"
            case upstream.clientCertificate where !upstream.clientCertificate.isEmpty: key = "upstream.client_certificate"
            case upstream.clientKey where !upstream.clientKey.isEmpty: key = "upstream.client_key"
            default: key = "upstream"
            }
            throw ConfigFileError(file: error.path ?? "configuration", problems: [ConfigError(keyPath: key, "\(error)")])
        }
    }

    /// The keys of `cache.encryption_key` (seals) and `cache.encryption_previous_keys` (open),
    /// read now: a missing file, an unset variable or a key of the wrong length stops start-up
    /// with the key's name (and never its bytes).
    private static func makeSealer(_ cache: CacheConfig) throws -> EntrySealer? {
        guard let newest = cache.encryptionKey else { return nil }
        var keys: [[UInt8]] = []
        for (source, key) in [(newest, "cache.encryption_key")] + cache.encryptionPreviousKeys.map({ ($0, "cache.encryption_previous_keys") }) {
            do {
                keys.append(try source.load())
            } catch {
                throw ConfigFileError(file: "configuration", problems: [ConfigError(keyPath: key, error.description)])
            }
        }
        return EntrySealer(keys: keys)
    }

    /// The limiter; with `limits.backend: redis` it shares the cache's Redis connection and
    /// skips Redis while the cache's Redis breaker is open.
    private func makeLimiter(redis: (client: RedisClient, store: RedisCacheStore)?) -> RequestLimiter {
        guard let redis else { return RequestLimiter(config: config.limits, redis: nil, logger: logger) }
        let store = redis.store
        return RequestLimiter(config: config.limits, redis: redis.client, redisAvailable: {
            if case .open = store.breakerState { return false }
            return true
        }, logger: logger)
    }

    /// `auth.keys` and the keys of `auth.keys_file`, one list: a name or hash in both is an error.
    static func loadClientKeys(_ auth: AuthConfig) throws -> [ClientKeyConfig] {
        guard auth.mode == .keys else { return [] }
        let fromFile = auth.keysFile.isEmpty ? [] : try ClientKeyFile.load(path: auth.keysFile)
        let keys = auth.keys + fromFile
        let duplicates = AuthConfig.duplicates(in: keys, keyPath: "auth.keys + auth.keys_file")
        guard duplicates.isEmpty else { throw ConfigFileError(file: auth.keysFile, problems: duplicates) }
        return keys
    }

    /// The upstream key is read now: an unset variable or unreadable file stops start-up,
    /// naming `auth.upstream_key` (and never the key).
    private static func makeAccessControl(_ auth: AuthConfig, keys: [ClientKeyConfig]) throws -> AccessControl? {
        guard auth.mode == .keys, let reference = auth.upstreamKey else { return nil }
        do {
            return AccessControl(mode: .keys, keys: keys, upstreamKey: try reference.load())
        } catch {
            throw ConfigFileError(file: "configuration", problems: [ConfigError(keyPath: "auth.upstream_key", error.description)])
        }
    }

    /// `eventLoops`: the server's loop count, the pool size when `cache.redis.pool_size` is 0
    /// (a connection per loop: no lookup hops to another loop's thread).
    private static func makeRedisConfiguration(_ cache: CacheConfig, eventLoops: Int) throws -> RedisConfiguration? {
        let settings = cache.redis
        guard cache.enabled, settings.isEnabled else { return nil }
        var redisConfig: RedisConfiguration
        do {
            redisConfig = try RedisConfiguration(url: settings.url)
        } catch {
            throw ConfigFileError(file: "configuration", problems: [ConfigError(keyPath: "cache.redis.url", "\(error)")])
        }
        redisConfig.poolSize = settings.poolSize == 0 ? min(eventLoops, RedisCacheConfig.maxPoolSize) : settings.poolSize
        redisConfig.connectTimeout = .nanoseconds(settings.connectTimeout.nanoseconds)
        redisConfig.commandTimeout = .nanoseconds(settings.commandTimeout.nanoseconds)
        return redisConfig
    }

    /// The Redis L2 store when `cache.redis.url` is set. Connecting starts in the background:
    /// Redis being down at start is no reason not to serve.
    private func makeRedisStore(group: EventLoopGroup) -> (client: RedisClient, store: RedisCacheStore)? {
        guard let redisConfiguration else { return nil }
        let settings = config.cache.redis
        let client = RedisClient(configuration: redisConfiguration, eventLoopGroup: group, logger: logger)
        var report: (@Sendable (RedisCommandReport) -> Void)?
        if let metrics { report = { metrics.redisCommandReported($0) } }
        let store = RedisCacheStore(
            client: client,
            configuration: .init(
                lookupTimeout: .nanoseconds(settings.lookupTimeout.nanoseconds),
                breaker: .init(failureThreshold: settings.breakerFailures,
                               probeInterval: .nanoseconds(settings.breakerProbeInterval.nanoseconds))
            ),
            logger: logger,
            report: report
        )
        let logger = self.logger
        client.connect().whenFailure { error in
            logger.warning("Redis not reachable at start; serving without it until it answers", metadata: ["error": "\(error)"])
        }
        return (client, store)
    }
}

public struct ServerStartError: Error, CustomStringConvertible {
    public var address: String
    public var underlying: Error
    public var description: String { "cannot listen on \(address): \(underlying)" }
}
