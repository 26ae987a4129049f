import Foundation
import Testing
@testable import RepriseCore

/// A realistic OpenAI chat stream: two choices (n=2), a tool call split in fragments, usage chunk.
let chatStreamEvents: [String] = [
    #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":1,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"lo \"world\"\n"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
    #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":1,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}"#,
    #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}"#,
]

func sseBytes(_ events: [String], done: Bool = true, crlf: Bool = false) -> [UInt8] {
    var text = ": keep-alive comment\n\n"
    for event in events { text += "data: \(event)\n\n" }
    if done { text += "data: [DONE]\n\n" }
    if crlf { text = text.replacingOccurrences(of: "\n", with: "\r\n") }
    return Array(text.utf8)
}

func jsonObject(_ bytes: [UInt8]) -> NSDictionary? {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? NSDictionary
}

@Suite struct SSETests {
    @Test func parsesArbitrarySlices() throws {
        for crlf in [false, true] {
            let bytes = sseBytes(chatStreamEvents, crlf: crlf)
            for sliceSize in [1, 2, 3, 7, 64, bytes.count] {
                var parser = SSEParser()
                var events: [SSEEvent] = []
                var start = 0
                while start < bytes.count {
                    events += try parser.feed(bytes[start ..< min(start + sliceSize, bytes.count)])
                    start += sliceSize
                }
                #expect(events.map { String(decoding: $0.data, as: UTF8.self) } == chatStreamEvents + ["[DONE]"])
            }
        }
    }

    @Test func fieldsAndMultilineData() throws {
        var parser = SSEParser()
        let events = try parser.feed(Array("event: update\rid: 7\ndata:a\ndata: b\n\ndata\n\n:comment\nretry: 5\n\n".utf8))
        #expect(events == [SSEEvent(event: "update", data: Array("a\nb".utf8), id: "7"), SSEEvent(data: [], id: "7")])
        #expect(SSEEncoder.encode(data: Array("a\nb".utf8)) == Array("data: a\ndata: b\n\n".utf8))
        #expect(SSEEncoder.encodeStream(events: [Array("x".utf8)]) == Array("data: x\n\ndata: [DONE]\n\n".utf8))
    }

    @Test func boundsLineLength() {
        var parser = SSEParser(maxLineBytes: 16)
        #expect(throws: SSEParserError.self) { try parser.feed(Array("data: 0123456789abcdef\n".utf8)) }
    }
}

@Suite struct StreamRecorderTests {
    let headers = [(name: "Content-Type", value: "text/event-stream"), (name: "x-request-id", value: "req_1")]

    @Test func recordsACompleteStream() throws {
        var recorder = StreamRecorder(maxBytes: 1 << 20)
        let bytes = sseBytes(chatStreamEvents)
        for start in stride(from: 0, to: bytes.count, by: 13) { recorder.feed(bytes[start ..< min(start + 13, bytes.count)]) }
        let entry = try #require(recorder.finish(status: 200, headers: headers, nowMs: 5, ttlMs: 1000))
        #expect(entry.model == "gpt-4o-2024-08-06")
        #expect(entry.usage == .init(promptTokens: 12, completionTokens: 9, totalTokens: 21))
        #expect(entry.headers == [.init(name: "content-type", value: "text/event-stream")])
        #expect(entry.body == .events(chatStreamEvents.map { Array($0.utf8) }))
        #expect(try CacheEntryCodec.decode(CacheEntryCodec.encode(entry)) == entry)
        #expect(SSEEncoder.encodeStream(events: chatStreamEvents.map { Array($0.utf8) }) == Array(sseBytes(chatStreamEvents).dropFirst(": keep-alive comment\n\n".utf8.count)))
    }

    @Test func refusesIncompleteErrorOrOversizedStreams() {
        var cut = StreamRecorder(maxBytes: 1 << 20)
        cut.feed(sseBytes(Array(chatStreamEvents.prefix(5)), done: false))
        #expect(cut.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)

        var noFinish = StreamRecorder(maxBytes: 1 << 20)
        noFinish.feed(sseBytes(Array(chatStreamEvents.prefix(5)), done: true)) // [DONE] but no finish_reason
        #expect(noFinish.doneSeen && !noFinish.finishReasonSeen)
        #expect(noFinish.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)

        var complete = StreamRecorder(maxBytes: 1 << 20)
        complete.feed(sseBytes(chatStreamEvents))
        #expect(complete.finish(status: 500, headers: headers, nowMs: 0, ttlMs: 1000) == nil)
        #expect(complete.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) != nil)

        var small = StreamRecorder(maxBytes: 500)
        small.feed(sseBytes(chatStreamEvents))
        #expect(small.overLimit)
        #expect(small.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)
    }

    @Test func jsonResponseEntry() throws {
        let body = Array(#"{"id":"x","object":"chat.completion","model":"deepseek-chat","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#.utf8)
        let entry = try #require(CacheEntry.forJSONResponse(status: 200, headers: headers, body: body, nowMs: 1, ttlMs: 2, maxBytes: 1000))
        #expect(entry.model == "deepseek-chat" && entry.usage?.totalTokens == 7)
        #expect(CacheEntry.forJSONResponse(status: 429, headers: headers, body: body, nowMs: 1, ttlMs: 2, maxBytes: 1000) == nil)
        #expect(CacheEntry.forJSONResponse(status: 200, headers: headers, body: Array("oops".utf8), nowMs: 1, ttlMs: 2, maxBytes: 1000) == nil)
        #expect(CacheEntry.forJSONResponse(status: 200, headers: headers, body: Array("[{\"model\":\"m\"}]".utf8), nowMs: 1, ttlMs: 2, maxBytes: 1000) == nil)
    }
}

@Suite struct ShapeConversionTests {
    @Test func assemblesChatCompletionWithToolCallsAndUsage() throws {
        let document = try #require(jsonObject(StreamAssembler.assemble(events: chatStreamEvents.map { Array($0.utf8) })))
        let expected = try #require(jsonObject(Array(#"""
        {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1",
         "choices":[
          {"index":0,"message":{"role":"assistant","content":"Hello \"world\"\n","refusal":null},"logprobs":null,"finish_reason":"stop"},
          {"index":1,"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],
         "usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}
        """#.utf8)))
        #expect(document == expected)
    }

    @Test func synthesizedStreamAssemblesBackToTheSameDocument() throws {
        let original = try StreamAssembler.assemble(events: chatStreamEvents.map { Array($0.utf8) })
        let chunks = try StreamSynthesizer.synthesize(json: original, includeUsage: true)
        #expect(jsonObject(try StreamAssembler.assemble(events: chunks)) == jsonObject(original))
        // Every chunk is a chat.completion.chunk; the last one carries usage and no choices.
        for chunk in chunks { #expect(jsonObject(chunk)?["object"] as? String == "chat.completion.chunk") }
        #expect((jsonObject(chunks.last!)?["choices"] as? [Any])?.isEmpty == true)
        let withoutUsage = try StreamSynthesizer.synthesize(json: original, includeUsage: false)
        #expect(withoutUsage.count == chunks.count - 1)
        #expect(withoutUsage.allSatisfy { jsonObject($0)?["usage"] == nil })
        // The synthesized stream satisfies the recorder's completeness rule.
        var recorder = StreamRecorder(maxBytes: 1 << 20)
        recorder.feed(SSEEncoder.encodeStream(events: chunks))
        #expect(recorder.finish(status: 200, headers: [], nowMs: 0, ttlMs: 1) != nil)
    }

    @Test func deepSeekReasoningAndTextCompletions() throws {
        let deepseek = Array(#"{"id":"d1","object":"chat.completion","created":1,"model":"deepseek-reasoner","choices":[{"index":0,"message":{"role":"assistant","content":"42","reasoning_content":"think"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#.utf8)
        let chunks = try StreamSynthesizer.synthesize(json: deepseek, includeUsage: false)
        let back = try #require(jsonObject(try StreamAssembler.assemble(events: chunks)))
        let message = ((back["choices"] as? [NSDictionary])?.first?["message"]) as? NSDictionary
        #expect(message?["content"] as? String == "42")
        #expect(message?["reasoning_content"] as? String == "think")

        let text = Array(#"{"id":"c1","object":"text_completion","created":1,"model":"gpt-3.5-turbo-instruct","choices":[{"index":0,"text":"Hi there","logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#.utf8)
        let textChunks = try StreamSynthesizer.synthesize(json: text, includeUsage: true)
        #expect(jsonObject(try StreamAssembler.assemble(events: textChunks)) == jsonObject(text))
    }
}
