import Foundation
import NIOCore
import Testing
import RepriseRedis

@Suite("RedisCacheStore fails open")
struct RedisCacheStoreTests {
    /// Lookup timeouts are generous where a hit is expected: a loaded 2-core machine running
    /// debug builds of many suites at once can miss 100 ms. The pool is connected up front, as
    /// the proxy does at startup, so no lookup pays for a connect.
    func makeStore(_ server: RedisServerProcess, lookupTimeout: TimeAmount = .seconds(2), threshold: Int = 1000)
        async throws -> (RedisClient, RedisCacheStore)
    {
        var configuration = try RedisConfiguration(url: server.url)
        configuration.poolSize = 2
        configuration.commandTimeout = .seconds(2)
        configuration.connectTimeout = .seconds(5)
        configuration.reconnectBaseDelay = .milliseconds(20)
        configuration.reconnectMaxDelay = .milliseconds(200)
        let client = RedisClient(configuration: configuration, eventLoopGroup: testGroup)
        try await client.connect().get()
        let store = RedisCacheStore(client: client, configuration: .init(
            lookupTimeout: lookupTimeout,
            breaker: .init(failureThreshold: threshold, probeInterval: .milliseconds(100))
        ))
        return (client, store)
    }

    @Test func hitsMissesStoresAndPurge() async throws {
        try await withRedisServer { server in
            let (client, store) = try await makeStore(server)
            store.store("reprise:v1:ns:a", value: ByteBuffer(string: "A"), ttlMilliseconds: 60_000)
            store.store("reprise:v1:ns:b", value: ByteBuffer(string: "B"), ttlMilliseconds: 60_000)
            store.store("reprise:v1:other:c", value: ByteBuffer(string: "C"), ttlMilliseconds: 60_000)
            #expect(await eventually { store.counters.storesSucceeded == 3 })
            #expect(try await store.lookup("reprise:v1:ns:a").get() == ByteBuffer(string: "A"))
            #expect(try await store.lookup("reprise:v1:ns:zzz").get() == nil)
            #expect(try await store.purge(prefix: "reprise:v1:ns:").get() == 2)
            #expect(try await store.lookup("reprise:v1:other:c").get() == ByteBuffer(string: "C"))
            let counters = store.counters
            #expect(counters.lookupHits == 2 && counters.lookupMisses == 1 && counters.lookupErrors == 0)
            try await client.shutdown()
        }
    }

    @Test func deadRedisIsAMissWithinTheTimeoutAndStoresAreDropped() async throws {
        try await withRedisServer { server in
            let (client, store) = try await makeStore(server, lookupTimeout: .milliseconds(300))
            store.store("k", value: ByteBuffer(string: "v"), ttlMilliseconds: 60_000)
            #expect(await eventually { store.counters.storesSucceeded == 1 })
            server.kill()
            let clock = ContinuousClock()
            for _ in 0..<20 {
                let started = clock.now
                #expect(try await store.lookup("k").get() == nil)
                // The budget is the lookup timeout; a wide margin for a loaded 2-core machine.
                #expect(clock.now - started < .seconds(2))
            }
            store.store("k2", value: ByteBuffer(string: "v"), ttlMilliseconds: 60_000)
            #expect(await eventually { store.counters.storesDropped >= 1 })
            #expect(store.counters.lookupErrors == 20)
            try await client.shutdown()
        }
    }

    @Test func pausedRedisTimesOutWithinBudgetAndHitsResume() async throws {
        try await withRedisServer { server in
            let (client, store) = try await makeStore(server, lookupTimeout: .milliseconds(300))
            store.store("k", value: ByteBuffer(string: "v"), ttlMilliseconds: 60_000)
            #expect(await eventually { store.counters.storesSucceeded == 1 })
            #expect(await eventually { (try? await store.lookup("k").get()) == ByteBuffer(string: "v") })
            let errorsBefore = store.counters.lookupErrors
            server.pause()
            defer { server.resume() }
            let clock = ContinuousClock()
            for _ in 0..<5 {
                let started = clock.now
                #expect(try await store.lookup("k").get() == nil)
                #expect(clock.now - started < .seconds(2))
            }
            #expect(store.counters.lookupErrors == errorsBefore + 5)
            server.resume()
            #expect(await eventually { (try? await store.lookup("k").get()) == ByteBuffer(string: "v") })
            try await client.shutdown()
        }
    }

    /// The lookup timeout bounds the wait for a connection too: against a paused server, the
    /// connect's handshake (`SELECT`) never completes within `connect_timeout` (5 s here), yet
    /// each lookup answers a miss within its 300 ms.
    @Test func lookupsWaitingForAConnectionAnswerWithinTheTimeout() async throws {
        try await withRedisServer { server in
            var configuration = try RedisConfiguration(url: server.url + "/3")
            configuration.poolSize = 1
            configuration.connectTimeout = .seconds(5)
            let client = RedisClient(configuration: configuration, eventLoopGroup: testGroup)
            let store = RedisCacheStore(client: client, configuration: .init(
                lookupTimeout: .milliseconds(300), breaker: .init(failureThreshold: 1000, probeInterval: .milliseconds(100))
            ))
            server.pause()
            defer { server.resume() }
            let clock = ContinuousClock()
            for _ in 0..<3 {
                let started = clock.now
                #expect(try await store.lookup("k").get() == nil)
                #expect(clock.now - started < .seconds(2))
            }
            #expect(store.counters.lookupErrors == 3)
            server.resume()
            store.store("k", value: ByteBuffer(string: "v"), ttlMilliseconds: 60_000)
            #expect(await eventually { (try? await store.lookup("k").get()) == ByteBuffer(string: "v") })
            try await client.shutdown()
        }
    }

    @Test func breakerOpensSkipsRedisAndRecoversAfterRestart() async throws {
        try await withRedisServer { server in
            let (client, store) = try await makeStore(server, threshold: 3)
            store.store("k", value: ByteBuffer(string: "v"), ttlMilliseconds: 600_000)
            #expect(await eventually { store.counters.storesSucceeded == 1 })
            server.kill()
            for _ in 0..<3 { _ = try await store.lookup("k").get() }
            #expect(store.counters.breakerOpenings == 1)
            #expect(store.breakerState != .closed(consecutiveFailures: 0))
            // While open, lookups do not touch Redis.
            let errorsBefore = store.counters.lookupErrors
            for _ in 0..<10 { #expect(try await store.lookup("k").get() == nil) }
            #expect(store.counters.lookupsSkippedByBreaker >= 10)
            #expect(store.counters.lookupErrors == errorsBefore)
            store.store("k2", value: ByteBuffer(string: "v"), ttlMilliseconds: 60_000)
            #expect(store.counters.storesSkippedByBreaker >= 1)

            try await server.restart()
            // Probes find Redis back; the breaker closes with no restart of the client.
            #expect(await eventually { store.breakerState == .closed(consecutiveFailures: 0) })
            store.store("k", value: ByteBuffer(string: "again"), ttlMilliseconds: 60_000)
            #expect(await eventually { (try? await store.lookup("k").get()) == ByteBuffer(string: "again") })
            store.shutdown()
            try await client.shutdown()
        }
    }
}
