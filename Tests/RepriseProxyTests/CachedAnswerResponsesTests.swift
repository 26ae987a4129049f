import NIOCore
import RepriseCore
import Testing
@testable import RepriseProxy

/// A Responses API answer is replayed in its own encoding: named events, no `[DONE]`, and the
/// Responses converters across shapes.
@Suite struct CachedAnswerResponsesTests {
    static let response = #"{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"gpt-4o-mini","output":[{"id":"msg_1","type":"message","role":"assistant","status":"completed","content":[{"type":"output_text","text":"héllo","annotations":[]}]}],"usage":{"input_tokens":3,"output_tokens":2,"total_tokens":5},"error":null}"#

    private func entry(_ body: CacheEntry.Body) -> CacheEntry {
        CacheEntry(status: 200, headers: [], createdAtMs: 0, ttlMs: 60_000, model: nil, usage: nil, body: body)
    }

    private func text(_ buffer: ByteBuffer) -> String { String(buffer: buffer) }

    @Test func aJSONAnswerStreamsAsNamedEventsEndingInResponseCompleted() throws {
        let answer = CachedAnswer(entry: entry(.json(Array(Self.response.utf8))))
        let streamed = text(try answer.encoded(for: .stream(includeUsage: false)).body)
        #expect(streamed.hasPrefix("event: response.created\ndata: "))
        #expect(streamed.contains("event: response.output_text.delta\n"))
        #expect(streamed.hasSuffix("\n\n"))
        #expect(streamed.components(separatedBy: "event: ").last?.hasPrefix("response.completed\n") == true)
        #expect(!streamed.contains("[DONE]"))
        // A usage option means nothing to the Responses API: the same stream.
        #expect(text(try answer.encoded(for: .stream(includeUsage: true)).body) == streamed)
        #expect(try answer.encoded(for: .json).body == ByteBuffer(string: Self.response))
    }

    @Test func aRecordedStreamReplaysWithItsEventNamesAndAnswersJSONWithItsResponse() throws {
        let events = try ResponsesStreamSynthesizer.synthesize(json: Array(Self.response.utf8))
        let answer = CachedAnswer(entry: entry(.events(events)))
        let native = try answer.encoded(for: .stream(includeUsage: false))
        #expect(native.body == ByteBuffer(bytes: SSEEncoder.encodeResponsesStream(events: events)))
        #expect(text(native.head).contains("text/event-stream"))
        let json = text(try answer.encoded(for: .json).body)
        #expect(json.contains(#""id":"resp_1""#))
        #expect(json.contains("héllo"))
        #expect(!json.contains("response.completed"))
    }
}
