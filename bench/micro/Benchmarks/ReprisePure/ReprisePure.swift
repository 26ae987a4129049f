import Benchmark
import RepriseCore

// Micro-benchmarks of Reprise's pure, per-request work (issue 11, item 4): cache key
// normalization, L2 entry encode/decode, SSE parsing of a recorded stream, L1 get/set.
// Each benchmark measures only the operation: fixtures are built when the suite registers.
// Instruction counts come from perf_events and read 0 where the kernel refuses them.

let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal, .instructions]

/// Thrown when a fixture does not behave as the benchmark assumes (so a broken run is not
/// mistaken for a fast one).
struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: metrics, warmupIterations: 10, maxDuration: .seconds(3), maxIterations: 1_000_000)

    // MARK: Cache key normalization (canonical JSON + framed SHA-256)

    for (label, size) in [("4 KB", 4 << 10), ("100 KB", 100 << 10)] {
        let body = Fixtures.chatBody(minimumBytes: size)
        let builder = CacheKeyBuilder()
        Benchmark("CacheKeyBuilder.key \(label) chat body (\(body.count) B)",
                  configuration: .init(scalingFactor: size < 10_000 ? .kilo : .one)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try builder.key(scope: Fixtures.scope, body: body))
            }
        }
    }

    // A repeat of the same bytes, as the proxy's per-event-loop builders see it: answered by the
    // key memo (hash and compare of the body) instead of canonicalization and digest.
    let repeatedBody = Fixtures.chatBody(minimumBytes: 4 << 10)
    let memoizingBuilder = CacheKeyBuilder(memoSlots: 64)
    Benchmark("CacheKeyBuilder.key 4 KB chat body, byte-identical repeat (key memo)",
              configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try memoizingBuilder.key(scope: Fixtures.scope, body: repeatedBody))
        }
    }

    // MARK: L2 entry codec

    let jsonEntry = Fixtures.jsonEntry
    let streamEntry = Fixtures.streamEntry(eventCount: 200)
    for (label, entry) in [("JSON entry", jsonEntry), ("stream entry, 200 events", streamEntry)] {
        let encoded = CacheEntryCodec.encode(entry)
        let scaling: BenchmarkScalingFactor = encoded.count < 10_000 ? .kilo : .one
        Benchmark("CacheEntryCodec.encode \(label) (\(encoded.count) B)", configuration: .init(scalingFactor: scaling)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(CacheEntryCodec.encode(entry))
            }
        }
        Benchmark("CacheEntryCodec.decode \(label) (\(encoded.count) B)", configuration: .init(scalingFactor: scaling)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try CacheEntryCodec.decode(encoded))
            }
        }
    }

    // MARK: SSE parsing of a recorded stream, fed in 1 KB slices as it comes off the socket

    let recorded = SSEEncoder.encodeStream(events: streamEntry.body.events)
    let slices: [ArraySlice<UInt8>] = stride(from: 0, to: recorded.count, by: 1024).map {
        recorded[$0 ..< min($0 + 1024, recorded.count)]
    }
    Benchmark("SSEParser.feed 201-event stream in 1 KB slices (\(recorded.count) B)") { benchmark in
        var parser = SSEParser()
        var events = 0
        for slice in slices { events += try parser.feed(slice).count }
        guard events == 201 else { throw FixtureError(description: "parsed \(events) events, expected 201") }
    }

    // MARK: L1 (MemoryCache) at steady state: 10k entries, 256 MB budget

    let entryCount = 10_000
    let cost = jsonEntry.approximateByteCount
    let keys = Fixtures.cacheKeys(count: entryCount, seed: 1)
    let lookupOrder = Fixtures.shuffled(keys, seed: 2)
    let namespace = Fixtures.scope.namespace

    let cache = MemoryCache<String, CacheEntry>(maxBytes: 256 << 20, maxEntryBytes: 1 << 20)
    for key in keys { cache.set(key, namespace: namespace, value: jsonEntry, cost: cost, ttlMs: 86_400_000) }
    var getCursor = 0
    Benchmark("MemoryCache.get hit (10k entries)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            guard let entry = cache.get(lookupOrder[getCursor]) else { throw FixtureError(description: "L1 miss at steady state") }
            blackHole(entry)
            getCursor = getCursor + 1 == entryCount ? 0 : getCursor + 1
        }
    }
    var replaceCursor = 0
    Benchmark("MemoryCache.set replace (10k entries)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            cache.set(lookupOrder[replaceCursor], namespace: namespace, value: jsonEntry, cost: cost, ttlMs: 86_400_000)
            replaceCursor = replaceCursor + 1 == entryCount ? 0 : replaceCursor + 1
        }
    }

    // Full budget: every set of a new key evicts the least recently used entry. Keys cycle
    // through twice the capacity, so each one was evicted before it comes round again.
    let fullCache = MemoryCache<String, CacheEntry>(maxBytes: entryCount * cost, maxEntryBytes: cost)
    let churnKeys = keys + Fixtures.cacheKeys(count: entryCount, seed: 3)
    for key in keys { fullCache.set(key, namespace: namespace, value: jsonEntry, cost: cost, ttlMs: 86_400_000) }
    var churnCursor = entryCount
    Benchmark("MemoryCache.set new key + LRU eviction (10k entries, full)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            fullCache.set(churnKeys[churnCursor], namespace: namespace, value: jsonEntry, cost: cost, ttlMs: 86_400_000)
            churnCursor = churnCursor + 1 == churnKeys.count ? 0 : churnCursor + 1
        }
        let stats = fullCache.stats
        guard stats.count == entryCount, stats.evictions > 0 else {
            throw FixtureError(description: "full L1 not at steady state: \(stats)")
        }
    }
}

extension CacheEntry.Body {
    var events: [[UInt8]] {
        if case .events(let events) = self { return events }
        return []
    }
}
