import Foundation
import Logging
import NIOCore
import RepriseCore
import RepriseRedis

/// The cache tiers behind one interface: L1 in memory (this process), then Redis as L2 when
/// `cache.redis.url` is set. L1 is looked up synchronously on the calling loop (the hit path);
/// Redis only after an L1 miss, and a Redis hit fills L1.
final class ResponseCache: Sendable {
    private let memory: MemoryCache<CacheKey, CachedAnswer>?
    private let redis: RedisCacheStore?
    let maxEntryBytes: Int
    /// `cache.max_ttl`: no Redis entry fills L1 for longer, whatever TTL it claims.
    private let maxTTLMs: Int64
    private let logger: Logger
    private let metrics: ProxyMetrics?
    /// Seals Redis entries when `cache.encryption_key` is set; L1 holds answers in the clear
    /// (it is this process's memory).
    private let sealer: EntrySealer?

    init(config: CacheConfig, redis: RedisCacheStore?, sealer: EntrySealer? = nil, metrics: ProxyMetrics? = nil, logger: Logger) {
        self.metrics = metrics
        self.sealer = sealer
        self.memory = config.memory.enabled
            ? MemoryCache(maxBytes: config.memory.maxBytes.bytes, maxEntryBytes: Self.memoryEntryBytes(maxEntryBytes: config.maxEntryBytes.bytes))
            : nil
        self.redis = redis
        self.maxEntryBytes = config.maxEntryBytes.bytes
        self.maxTTLMs = config.maxTTL.milliseconds
        self.logger = logger
    }

    var hasRedis: Bool { redis != nil }

    /// The memory tier's counters, for `/metrics`; nil when it is off.
    var memoryStats: MemoryCacheStats? { memory?.stats }

    /// The memory tier's per-entry bound, three times `cache.max_entry_bytes` as before;
    /// saturates for a configured size near `Int.max` instead of trapping at start.
    static func memoryEntryBytes(maxEntryBytes: Int) -> Int {
        let (product, overflow) = maxEntryBytes.multipliedReportingOverflow(by: 3)
        return overflow ? .max : product
    }

    static func nowMs() -> Int64 { MemoryCache<CacheKey, CachedAnswer>.wallClockMs() }

    /// The L1 answer for `key`, if present, not expired and stored under this very key.
    func lookupMemory(_ key: CacheKey) -> CachedAnswer? {
        guard let memory else { return nil }
        guard let answer = memory.get(key) else {
            metrics?.memoryLookup(hit: false)
            return nil
        }
        guard answer.entry.isStored(under: key) else {
            metrics?.cacheOperation(.get, backend: .memory, result: .error)
            refused(key: key, tier: "memory")
            return nil
        }
        metrics?.memoryLookup(hit: true)
        return answer
    }

    /// An entry that carries another key's digest: a miss, never an answer (logged at debug: a
    /// store under the wrong key is a bug, a value copied between Redis keys is tampering).
    private func refused(key: CacheKey, tier: String) {
        metrics?.entryRejected(.otherKey)
        logger.debug("cache entry stored under another key: treated as a miss",
                     metadata: ["tier": "\(tier)", "namespace": "\(key.namespace)"])
    }

    /// The Redis answer for `key`, completed on `eventLoop`; nil on a miss, an expired or corrupt
    /// entry, or any Redis trouble (fail-open: the store answers nil within its lookup timeout).
    ///
    /// The entry is decoded in place, in the callback that gets Redis's reply: the reply's bytes
    /// are a slice of the connection's read buffer (a sealed entry is opened into one buffer),
    /// checked and served from as they are. Only the memory cache's copy is decoded into Swift
    /// values (it outlives the reply).
    func lookupRedis(_ key: CacheKey, on eventLoop: EventLoop) -> EventLoopFuture<RedisHit?> {
        guard let redis else { return eventLoop.makeSucceededFuture(nil) }
        return redis.lookup(key.redisKey, on: eventLoop) { [self] value -> RedisHit? in
            guard let plaintext = opened(value, key: key) else { return nil }
            let stored: StoredEntry
            do {
                stored = try StoredEntry(parsing: plaintext)
            } catch {
                metrics?.entryRejected(.corrupt)
                logger.warning("corrupt cache entry in Redis: treated as a miss", metadata: ["key": "\(key.redisKey)", "error": "\(error)"])
                return nil
            }
            guard stored.isStored(under: key) else {
                refused(key: key, tier: "redis")
                return nil
            }
            let now = Self.nowMs()
            let lifetime = stored.layout.lifetime
            guard !lifetime.isExpired(nowMs: now) else { return nil }
            // Fill L1 for the rest of the entry's life (bounded: the entry's fields come from Redis).
            let remaining = min(lifetime.remainingMs(nowMs: now), maxTTLMs)
            guard let memory, remaining > 0 else { return RedisHit(stored: stored, cached: nil) }
            let answer = CachedAnswer(entry: stored.entry())
            _ = memory.set(key, namespace: key.namespace, value: answer, cost: answer.cost, ttlMs: remaining)
            return RedisHit(stored: stored, cached: answer)
        }
    }

    /// The entry's plaintext: `value` itself, or opened into one new buffer when entries are
    /// sealed; nil (counted, logged) when it does not open.
    private func opened(_ value: ByteBuffer, key: CacheKey) -> ByteBuffer? {
        guard let sealer else { return value }
        let plaintextBytes = max(0, EntrySealer.plaintextByteCount(sealedByteCount: value.readableBytes))
        var plaintext = ByteBufferAllocator().buffer(capacity: plaintextBytes)
        var redisKey = key.redisKey
        var failure: EntrySealingError?
        value.withUnsafeReadableBytes { sealed in
            redisKey.withUTF8 { associatedData in
                _ = plaintext.writeWithUnsafeMutableBytes(minimumWritableBytes: plaintextBytes) { output in
                    do throws(EntrySealingError) {
                        try sealer.open(sealed, associatedData: UnsafeRawBufferPointer(associatedData), into: output)
                        return plaintextBytes
                    } catch {
                        failure = error
                        return 0
                    }
                }
            }
        }
        if let failure {
            metrics?.entryRejected(.unsealable)
            logger.warning("Redis entry does not open with the configured keys: treated as a miss",
                           metadata: ["key": "\(key.redisKey)", "error": "\(failure)"])
            return nil
        }
        return plaintext
    }

    /// Stores a finished answer in every tier (Redis in the background; failures are counted by
    /// the store and never reach the client).
    func store(_ entry: CacheEntry, key: CacheKey) {
        if let memory {
            let answer = CachedAnswer(entry: entry)
            if memory.set(key, namespace: key.namespace, value: answer, cost: answer.cost, ttlMs: entry.ttlMs) {
                metrics?.memoryStored()
            } else {
                logger.debug("answer too large for the memory cache", metadata: ["bytes": "\(answer.cost)"])
            }
        }
        if let redis {
            let redisKey = key.redisKey
            var bytes = CacheEntryCodec.encode(entry)
            if let sealer { bytes = sealer.seal(bytes, associatedData: Array(redisKey.utf8)) }
            redis.store(redisKey, value: ByteBuffer(bytes: bytes), ttlMilliseconds: entry.ttlMs)
        }
    }

    /// What a purge removed, per tier.
    struct PurgeResult: Sendable {
        var memory: Int
        /// nil without Redis.
        var redis: Int?
        /// The answers that are gone: the shared tier's count when there is one (an answer held
        /// in both tiers is one answer), else the memory cache's.
        var purged: Int { redis ?? memory }
    }

    /// Removes a namespace's answers (or all when nil) from every tier. A Redis failure fails the
    /// future: an operator asked and must know. Other processes' memory caches are not reached:
    /// they keep what they hold until it expires.
    func purge(namespace: String?, on eventLoop: EventLoop) -> EventLoopFuture<PurgeResult> {
        let removed = memory.map { memory in
            namespace.map { memory.removeAll(namespace: $0) } ?? memory.removeAll()
        } ?? 0
        if memory != nil { metrics?.cacheOperation(.delete, backend: .memory, result: .deleted) }
        guard let redis else { return eventLoop.makeSucceededFuture(PurgeResult(memory: removed, redis: nil)) }
        let metrics = self.metrics
        return redis.purge(prefix: CacheKey.redisKeyPrefix(namespace: namespace)).hop(to: eventLoop).map { PurgeResult(memory: removed, redis: $0) }
            .always { result in
                switch result {
                case .success: metrics?.cacheOperation(.delete, backend: .redis, result: .deleted)
                case .failure: metrics?.cacheOperation(.delete, backend: .redis, result: .error)
                }
            }
    }
}
