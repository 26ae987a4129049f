import Logging
import NIOCore
import NIOHTTP1
import RepriseCore
import Testing
@testable import RepriseProxy

/// A streamed answer is stored at its last event, not when the upstream's body ends: the OpenAI
/// SDK hangs up right after `data: [DONE]`, and real APIs end the chunked body a moment later.
@Suite struct CacheTeeStreamTests {
    static let key = CacheKey(namespace: "tenant-a", digest: String(repeating: "1e", count: 32))

    private static let content = #"data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}"# + "\n\n"
    private static let finish = #"data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n"
    private static let done = "data: [DONE]\n\n"

    private func cache() -> ResponseCache {
        ResponseCache(config: CacheConfig(), redis: nil, logger: Logger(label: "test"))
    }

    private func streamingTee(_ cache: ResponseCache) -> CacheTee {
        let tee = CacheTee(key: Self.key, ttlSeconds: 60, cache: cache)
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "content-type", value: "text/event-stream")
        tee.head(head)
        return tee
    }

    @Test func aStreamIsStoredWhenItsLastEventArrivesWithoutWaitingForTheBodysEnd() throws {
        let cache = cache()
        let tee = streamingTee(cache)
        tee.body(ByteBuffer(string: Self.content + Self.finish))
        #expect(!tee.streamComplete)
        #expect(cache.lookupMemory(Self.key) == nil)
        tee.body(ByteBuffer(string: Self.done))
        #expect(tee.streamComplete)
        let answer = try #require(cache.lookupMemory(Self.key))
        guard case .events(let events) = answer.entry.body else { Issue.record("stored as JSON"); return }
        #expect(events.count == 2)
        // The body's end (or the client leaving) afterwards neither stores twice nor undoes it.
        tee.finished()
        #expect(cache.lookupMemory(Self.key) != nil)
    }

    @Test func theLastEventSplitAcrossPartsCompletesTheStreamOnItsLastByte() {
        let cache = cache()
        let tee = streamingTee(cache)
        let bytes = Array((Self.content + Self.finish + Self.done).utf8)
        for byte in bytes.dropLast() {
            tee.body(ByteBuffer(bytes: [byte]))
        }
        #expect(!tee.streamComplete)
        tee.body(ByteBuffer(bytes: [bytes.last!]))
        #expect(tee.streamComplete)
        #expect(cache.lookupMemory(Self.key) != nil)
    }

    @Test func aStreamCutBeforeItsLastEventIsNeverStored() {
        let cache = cache()
        let tee = streamingTee(cache)
        tee.body(ByteBuffer(string: Self.content + Self.finish))
        tee.finished()  // the body ended (a cut stream ends the same way) without [DONE]
        #expect(!tee.streamComplete)
        #expect(cache.lookupMemory(Self.key) == nil)
    }

    @Test func doneWithoutAFinishReasonIsNotAnAnswer() {
        let cache = cache()
        let tee = streamingTee(cache)
        tee.body(ByteBuffer(string: Self.content + Self.done))
        tee.finished()
        #expect(!tee.streamComplete)
        #expect(cache.lookupMemory(Self.key) == nil)
    }
}
