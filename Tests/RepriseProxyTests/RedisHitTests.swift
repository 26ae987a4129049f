import NIOCore
import RepriseCore
import Testing
@testable import RepriseProxy

/// A Redis hit served from the stored bytes writes what a decoded `CachedAnswer` writes.
@Suite struct RedisHitTests {
    static let json = Array(#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Paris."}}]}"#.utf8)

    static func entry(headers: [CacheEntry.Header], body: CacheEntry.Body = .json(json)) -> CacheEntry {
        CacheEntry(
            status: 200, headers: headers, createdAtMs: 1_700_000_000_000, ttlMs: 60_000, model: "deepseek-chat",
            usage: .init(promptTokens: 12, completionTokens: 3, totalTokens: 15), body: body, keyDigest: String(repeating: "ab", count: 32)
        )
    }

    /// The entry's stored bytes as Redis hands them up: a slice with bytes before it.
    static func stored(_ entry: CacheEntry) throws -> StoredEntry {
        var reply = ByteBuffer(string: "$999\r\n")
        reply.writeBytes(CacheEntryCodec.encode(entry))
        reply.moveReaderIndex(forwardBy: 6)
        return try StoredEntry(parsing: reply)
    }

    @Test(arguments: [
        [CacheEntry.Header(name: "content-type", value: "application/json; charset=utf-8")],
        [.init(name: "x-kept", value: "1"), .init(name: "CONTENT-Type", value: "text/json"), .init(name: "content-language", value: "fr")],
        [.init(name: "x-request-id", value: "req-1")],
        [],
    ])
    func aJSONHitWritesTheDecodedAnswersBytes(headers: [CacheEntry.Header]) throws {
        let entry = Self.entry(headers: headers)
        let stored = try Self.stored(entry)
        let hit = RedisHit(stored: stored, cached: nil)
        let fromBytes = try hit.replayBytes(for: .json)
        let decoded = try CachedAnswer(entry: entry).encoded(for: .json)
        #expect(String(buffer: fromBytes.head) == String(buffer: decoded.head))
        #expect(fromBytes.body == decoded.body)
        #expect(hit.status == entry.status && hit.usage == entry.usage)
        #expect(hit.ageSeconds(nowMs: entry.createdAtMs + 7_500) == 7)
        #expect(stored.entry() == entry)
        let storedBase = stored.bytes.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let bodyBase = fromBytes.body.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(bodyBase > storedBase && bodyBase < storedBase + UInt(stored.bytes.readableBytes), "the body is a slice of the stored bytes")
    }

    @Test func otherShapesAndRecordedStreamsGoThroughTheDecodedAnswer() throws {
        let jsonEntry = Self.entry(headers: [])
        let streamed = try RedisHit(stored: Self.stored(jsonEntry), cached: nil).replayBytes(for: .stream(includeUsage: true))
        let decodedStream = try CachedAnswer(entry: jsonEntry).encoded(for: .stream(includeUsage: true))
        #expect(streamed.body == decodedStream.body && streamed.head == decodedStream.head)

        let events: [[UInt8]] = [Array(#"{"choices":[{"index":0,"delta":{"content":"Paris."}}]}"#.utf8)]
        let eventEntry = Self.entry(headers: [], body: .events(events))
        for shape in [ReplayShape.json, .stream(includeUsage: false)] {
            let fromBytes = try RedisHit(stored: Self.stored(eventEntry), cached: nil).replayBytes(for: shape)
            let decoded = try CachedAnswer(entry: eventEntry).encoded(for: shape)
            #expect(fromBytes.head == decoded.head && fromBytes.body == decoded.body, "\(shape)")
        }
    }

    @Test func theStoredEntryIsBoundToItsKey() throws {
        let stored = try Self.stored(Self.entry(headers: []))
        #expect(stored.isStored(under: CacheKey(namespace: "ns", digest: String(repeating: "ab", count: 32))))
        #expect(!stored.isStored(under: CacheKey(namespace: "ns", digest: String(repeating: "ab", count: 31) + "ac")))
        #expect(!stored.isStored(under: CacheKey(namespace: "ns", digest: String(repeating: "ab", count: 31))))
        var unbound = Self.entry(headers: [])
        unbound.keyDigest = ""
        #expect(try !Self.stored(unbound).isStored(under: CacheKey(namespace: "ns", digest: "")))
    }

    @Test func corruptOrTruncatedBytesAreRefused() throws {
        let bytes = CacheEntryCodec.encode(Self.entry(headers: [.init(name: "content-type", value: "application/json")]))
        for cut in [0, 3, 9, bytes.count / 2, bytes.count - 1] {
            #expect(throws: CacheEntryDecodingError.self) { try StoredEntry(parsing: ByteBuffer(bytes: bytes.prefix(cut))) }
        }
        for index in stride(from: 0, to: bytes.count, by: 7) {
            var flipped = bytes
            flipped[index] ^= 0x20
            #expect(throws: CacheEntryDecodingError.self) { try StoredEntry(parsing: ByteBuffer(bytes: flipped)) }
        }
        #expect(throws: CacheEntryDecodingError.self) { try StoredEntry(parsing: ByteBuffer(bytes: bytes + [0])) }
    }
}
