import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import RepriseCore
import RepriseRedis
import ServiceLifecycle

/// The proxy as a service: binds the listener, serves until a graceful shutdown is requested,
/// then drains (readiness off, stop accepting, let in-flight requests finish within the grace
/// period, close the rest).
public final class ProxyServer: Service {
    private let config: RepriseConfig
    private let logger: Logger
    public let state = ServerState()
    private let group: MultiThreadedEventLoopGroup

    public init(config: RepriseConfig, logger: Logger) {
        self.config = config
        self.logger = logger
        let threads = config.server.threads == 0 ? System.coreCount : config.server.threads
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    }

    public func run() async throws {
        let upstream = UpstreamClient(config: config.upstream, eventLoopGroup: group)
        let redis: (client: RedisClient, store: RedisCacheStore)?
        do {
            redis = try makeRedisStore()
        } catch {
            try? await upstream.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        let cache = ResponseCache(config: config.cache, redis: redis?.store, logger: logger)
        let responder = ProxyResponder(
            upstream: upstream, cache: cache, keyBuilders: CacheKeyBuilders(group: group, config: config.cache),
            config: config, state: state, logger: logger
        )
        let server = config.server
        let limits = ConnectionLimits(
            maxBodyBytes: server.maxBodyBytes.bytes,
            maxHeaderBytes: server.maxHeaderBytes.bytes,
            idleTimeout: .nanoseconds(server.idleTimeout.nanoseconds),
            requestTimeout: .nanoseconds(server.requestTimeout.nanoseconds)
        )
        let state = self.state
        let logger = self.logger
        let listener: Channel
        do {
            listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        state.register(channel)
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes))
                        )
                        try channel.pipeline.syncOperations.addHandler(
                            HTTPConnectionHandler(responder: responder, limits: limits, logger: logger)
                        )
                    }
                }
                .bind(host: server.listen.host, port: server.listen.port)
                .get()
        } catch {
            try? await upstream.shutdown()
            try? await group.shutdownGracefully()
            throw ServerStartError(address: server.listen.description, underlying: error)
        }
        let port = listener.localAddress?.port ?? server.listen.port
        let host = server.listen.host.contains(":") ? "[\(server.listen.host)]" : server.listen.host
        // Tests and scripts read this line to learn the port (port 0 in the config).
        FileHandle.standardOutput.write(Data("reprise listening on http://\(host):\(port)\n".utf8))
        logger.info("listening", metadata: ["address": "\(host):\(port)", "upstream": "\(upstream.baseURL)"])
        state.setReady(true)

        try? await gracefulShutdown()

        logger.info("shutting down: draining connections", metadata: [
            "open_connections": "\(state.openConnectionCount)",
            "grace_period": "\(server.shutdownGracePeriod)",
        ])
        state.setReady(false)
        try? await listener.close()
        state.drainConnections()
        let deadline = ContinuousClock.now + .nanoseconds(server.shutdownGracePeriod.nanoseconds)
        while state.openConnectionCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if state.openConnectionCount > 0 {
            logger.warning("grace period over: closing connections", metadata: ["open_connections": "\(state.openConnectionCount)"])
            state.closeAllConnections()
        }
        redis?.store.shutdown()
        try? await redis?.client.shutdown().get()
        try? await upstream.shutdown()
        try? await group.shutdownGracefully()
        logger.info("stopped")
    }

    /// The Redis L2 store when `cache.redis.url` is set. Connecting starts in the background:
    /// Redis being down at start is no reason not to serve.
    private func makeRedisStore() throws -> (client: RedisClient, store: RedisCacheStore)? {
        let settings = config.cache.redis
        guard config.cache.enabled, settings.isEnabled else { return nil }
        var redisConfig: RedisConfiguration
        do {
            redisConfig = try RedisConfiguration(url: settings.url)
        } catch {
            throw ConfigFileError(file: "configuration", problems: [ConfigError(keyPath: "cache.redis.url", "\(error)")])
        }
        redisConfig.poolSize = settings.poolSize
        redisConfig.connectTimeout = .nanoseconds(settings.connectTimeout.nanoseconds)
        redisConfig.commandTimeout = .nanoseconds(settings.commandTimeout.nanoseconds)
        let client = RedisClient(configuration: redisConfig, eventLoopGroup: group, logger: logger)
        let store = RedisCacheStore(
            client: client,
            configuration: .init(
                lookupTimeout: .nanoseconds(settings.lookupTimeout.nanoseconds),
                breaker: .init(failureThreshold: settings.breakerFailures,
                               probeInterval: .nanoseconds(settings.breakerProbeInterval.nanoseconds))
            ),
            logger: logger
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
