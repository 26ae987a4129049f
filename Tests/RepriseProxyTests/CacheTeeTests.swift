import Logging
import NIOCore
import NIOHTTP1
import RepriseCore
import Testing
@testable import RepriseProxy

/// What the tee stores: answers stamped with their key's digest, never an answer whose headers
/// could split a replayed head or whose body reports an error, and no trap on any TTL.
@Suite struct CacheTeeTests {
    static let key = CacheKey(namespace: "tenant-a", digest: String(repeating: "0f", count: 32))

    private func cache(memory: Bool = true) -> ResponseCache {
        var config = CacheConfig()
        config.memory.enabled = memory
        return ResponseCache(config: config, redis: nil, logger: Logger(label: "test"))
    }

    /// Runs one upstream answer through a tee for `key`.
    private func record(
        into cache: ResponseCache, key: CacheKey = key, ttlSeconds: Int = 60,
        contentType: String = "application/json", body: String = #"{"id":"1","object":"chat.completion"}"#
    ) {
        let tee = CacheTee(key: key, ttlSeconds: ttlSeconds, cache: cache)
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "content-type", value: contentType)
        tee.head(head)
        tee.body(ByteBuffer(string: body))
        tee.finished()
    }

    @Test func storedAnswersCarryTheirKeysDigestAndAnswerOnlyThatKey() throws {
        let cache = cache()
        record(into: cache)
        let answer = try #require(cache.lookupMemory(Self.key))
        #expect(answer.entry.keyDigest == Self.key.digest)
        #expect(cache.lookupMemory(CacheKey(namespace: "tenant-b", digest: Self.key.digest)) == nil)
    }

    /// An entry stored under one key and found under another (a bug, or tampering) is a miss.
    @Test func memoryLookupRefusesAnEntryOfAnotherKey() {
        let cache = cache()
        let entry = CacheEntry(status: 200, headers: [], createdAtMs: ResponseCache.nowMs(), ttlMs: 60_000, model: nil, usage: nil,
                               body: .json(Array("{}".utf8)), keyDigest: String(repeating: "f0", count: 32))
        cache.store(entry, key: Self.key)
        #expect(cache.lookupMemory(Self.key) == nil)
    }

    @Test func errorDocumentsWithStatus200AreNotStored() {
        let cache = cache()
        record(into: cache, body: #"{"error":{"message":"rate limited","type":"requests","code":"429"}}"#)
        #expect(cache.lookupMemory(Self.key) == nil)
    }

    @Test func headerValuesWithLineBreaksAreNotStored() {
        let cache = cache()
        record(into: cache, contentType: "application/json\r\nx-injected: 1")
        #expect(cache.lookupMemory(Self.key) == nil)
    }

    /// `Int64(ttlSeconds) * 1000` trapped for a TTL past Int64.max milliseconds.
    @Test func anyTTLIsStoredWithoutATrap() {
        let cache = cache(memory: false)
        record(into: cache, ttlSeconds: Int.max)
        record(into: cache, ttlSeconds: Int.min)
    }
}
