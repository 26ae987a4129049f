import Synchronization
import Testing
@testable import RepriseCore

final class ManualClock: Sendable {
    let value = Mutex<Int64>(1_000_000)
    func advance(ms: Int64) { value.withLock { $0 += ms } }
    var now: @Sendable () -> Int64 { { [self] in self.value.withLock { $0 } } }
}

@Suite struct MemoryCacheTests {
    @Test func lruOrderAndBudget() {
        let clock = ManualClock()
        let cache = MemoryCache<String, Int>(maxBytes: 100, maxEntryBytes: 60, now: clock.now)
        #expect(cache.set("a", namespace: "n", value: 1, cost: 40, ttlMs: 1000))
        #expect(cache.set("b", namespace: "n", value: 2, cost: 40, ttlMs: 1000))
        #expect(cache.get("a") == 1) // a is now most recent
        #expect(cache.set("c", namespace: "n", value: 3, cost: 40, ttlMs: 1000)) // evicts b
        #expect(cache.get("b") == nil)
        #expect(cache.keysByRecency == ["c", "a"])
        #expect(cache.stats == MemoryCacheStats(count: 2, bytes: 80, evictions: 1, expirations: 0))
        #expect(!cache.set("big", namespace: "n", value: 4, cost: 61, ttlMs: 1000))
        #expect(cache.set("a", namespace: "n", value: 5, cost: 10, ttlMs: 1000))
        #expect(cache.get("a") == 5)
        #expect(cache.stats.bytes == 50)
        #expect(cache.remove("a"))
        #expect(!cache.remove("a"))
    }

    @Test func ttlExpiryOnGet() {
        let clock = ManualClock()
        let cache = MemoryCache<String, String>(maxBytes: 100, maxEntryBytes: 100, now: clock.now)
        cache.set("k", namespace: "n", value: "v", cost: 1, ttlMs: 500)
        clock.advance(ms: 499)
        #expect(cache.get("k") == "v")
        clock.advance(ms: 1)
        #expect(cache.get("k") == nil)
        #expect(cache.stats.count == 0 && cache.stats.expirations == 1)
        #expect(!cache.set("z", namespace: "n", value: "v", cost: 1, ttlMs: 0))
    }

    @Test func purgeByNamespace() {
        let cache = MemoryCache<String, Int>(maxBytes: 1000, maxEntryBytes: 100)
        for index in 0 ..< 10 { cache.set("k\(index)", namespace: index % 2 == 0 ? "even" : "odd", value: index, cost: 10, ttlMs: 60_000) }
        #expect(cache.removeAll(namespace: "even") == 5)
        #expect(cache.get("k0") == nil && cache.get("k1") == 1)
        #expect(cache.stats.bytes == 50)
        #expect(cache.removeAll() == 5)
        #expect(cache.stats.count == 0 && cache.stats.bytes == 0)
    }

    @Test func randomOperationsKeepInvariants() {
        var rng = SplitMix(seed: 7)
        let clock = ManualClock()
        let cache = MemoryCache<String, Int>(maxBytes: 500, maxEntryBytes: 120, now: clock.now)
        var model: [String: Int] = [:] // key -> cost of what the cache should hold at most
        for step in 0 ..< 5000 {
            let key = "k\(Int.random(in: 0 ..< 40, using: &rng))"
            switch Int.random(in: 0 ..< 4, using: &rng) {
            case 0, 1:
                let cost = Int.random(in: 0 ... 150, using: &rng)
                if cache.set(key, namespace: "n", value: step, cost: cost, ttlMs: 1000) { model[key] = cost } else { model[key] = nil }
            case 2: _ = cache.get(key)
            default: clock.advance(ms: Int64.random(in: 0 ... 50, using: &rng))
            }
            let stats = cache.stats
            #expect(stats.bytes <= 500)
            #expect(stats.count == cache.keysByRecency.count)
        }
    }

    @Test func concurrentUse() async {
        let cache = MemoryCache<String, [UInt8]>(maxBytes: 10_000, maxEntryBytes: 1000)
        await withTaskGroup(of: Void.self) { group in
            for task in 0 ..< 16 {
                group.addTask {
                    for index in 0 ..< 2000 {
                        let key = "k\((index * 7 + task) % 100)"
                        if index % 3 == 0 {
                            cache.set(key, namespace: "t\(task % 4)", value: [UInt8](repeating: UInt8(task), count: 10), cost: 100 + index % 200, ttlMs: 60_000)
                        } else if index % 97 == 0 {
                            cache.removeAll(namespace: "t\(task % 4)")
                        } else if let value = cache.get(key) {
                            #expect(value.count == 10)
                        }
                    }
                }
            }
        }
        let stats = cache.stats
        #expect(stats.bytes <= 10_000)
        #expect(stats.count == cache.keysByRecency.count)
    }
}
