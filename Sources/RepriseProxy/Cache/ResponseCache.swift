import Foundation
import Logging
import NIOCore
import RepriseCore

/// The cache tiers behind one interface: L1 in memory (this process); Redis as L2 when
/// configured. Lookups on the hit path touch L1 only, synchronously, on the calling loop.
final class ResponseCache: Sendable {
    private let memory: MemoryCache<CachedAnswer>?
    let maxEntryBytes: Int
    private let logger: Logger

    init(config: CacheConfig, logger: Logger) {
        self.memory = config.memory.enabled
            ? MemoryCache(maxBytes: config.memory.maxBytes.bytes, maxEntryBytes: config.maxEntryBytes.bytes * 3)
            : nil
        self.maxEntryBytes = config.maxEntryBytes.bytes
        self.logger = logger
    }

    static func nowMs() -> Int64 { MemoryCache<CachedAnswer>.wallClockMs() }

    /// The L1 answer for `key`, if present and not expired.
    func lookupMemory(_ key: CacheKey) -> CachedAnswer? {
        memory?.get(key.redisKey)
    }

    /// Stores a finished answer in every tier.
    func store(_ entry: CacheEntry, key: CacheKey) {
        let answer = CachedAnswer(entry: entry)
        if let memory, !memory.set(key.redisKey, namespace: key.namespace, value: answer, cost: answer.cost, ttlMs: entry.ttlMs) {
            logger.debug("answer too large for the memory cache", metadata: ["bytes": "\(answer.cost)"])
        }
    }

    /// Removes a namespace's answers (or all when nil); returns how many were removed.
    func purge(namespace: String?) -> Int {
        guard let memory else { return 0 }
        if let namespace { return memory.removeAll(namespace: namespace) }
        return memory.removeAll()
    }
}
