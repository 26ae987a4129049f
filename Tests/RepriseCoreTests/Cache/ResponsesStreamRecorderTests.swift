import Testing
@testable import RepriseCore

@Suite struct ResponsesStreamRecorderTests {
    let headers = [(name: "Content-Type", value: "text/event-stream; charset=utf-8")]

    func record(_ bytes: [UInt8], slice: Int = Int.max) -> StreamRecorder {
        var recorder = StreamRecorder(maxBytes: 1 << 20)
        var start = 0
        while start < bytes.count {
            let end = start + min(slice, bytes.count - start)
            recorder.feed(bytes[start ..< end])
            start = end
        }
        return recorder
    }

    @Test func completedStreamIsCompleteAndStored() throws {
        let events = ResponsesFixture.streamEvents()
        let recorder = record(ResponsesFixture.sse(events))
        #expect(recorder.isComplete && recorder.isRecordable && recorder.format == .responses)
        #expect(!recorder.doneSeen)
        let entry = try #require(recorder.finish(status: 200, headers: headers, nowMs: 5, ttlMs: 1000))
        #expect(entry.body == .events(ResponsesFixture.bytes(events)))
        #expect(entry.model == "gpt-5-mini-2025-08-07")
        #expect(entry.usage == .init(promptTokens: 31, completionTokens: 47, totalTokens: 78))
        #expect(entry.answerFormat == .responses)
        #expect(try CacheEntryCodec.decode(CacheEntryCodec.encode(entry)) == entry)
    }

    @Test func completeOnlyOnceTheTerminalEventArrived() {
        let events = ResponsesFixture.streamEvents()
        let bytes = ResponsesFixture.sse(events)
        let terminalStart = bytes.count - ResponsesFixture.sse([events.last!]).count + ": keep-alive\n\n".utf8.count
        var recorder = StreamRecorder(maxBytes: 1 << 20)
        recorder.feed(bytes[..<(bytes.count - 1)])  // the blank line that dispatches the terminal event is missing
        #expect(!recorder.isComplete)
        #expect(recorder.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)
        recorder.feed(bytes[(bytes.count - 1)...])
        #expect(recorder.isComplete)
        #expect(recorder.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) != nil)

        // Cut anywhere before the terminal event: nothing is stored.
        for cut in [0, 100, terminalStart - 1, terminalStart + 40] {
            let partial = record(Array(bytes[..<cut]))
            #expect(!partial.isComplete, "cut at \(cut)")
            #expect(partial.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)
        }
    }

    @Test func incompleteResponseIsStored() throws {
        let incomplete = ResponsesFixture.response(status: "incomplete", output: [ResponsesFixture.reasoningItem, ResponsesFixture.messageItem],
                                                   usage: ResponsesFixture.usage, incompleteDetails: #"{"reason":"max_output_tokens"}"#)
        let events = Array(ResponsesFixture.streamEvents(terminal: "response.incomplete", terminalResponse: incomplete).prefix(13))
            + [#"{"type":"response.incomplete","sequence_number":13,"response":"# + incomplete + "}"]
        let recorder = record(ResponsesFixture.sse(events))
        #expect(recorder.isComplete)
        let entry = try #require(recorder.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000))
        #expect(entry.usage?.totalTokens == 78)
    }

    @Test func failedOrErrorStreamsAreNotStored() {
        let failedResponse = ResponsesFixture.response(status: "failed", output: [])
            .replacingOccurrences(of: #""error":null"#, with: #""error":{"code":"server_error","message":"The model failed"}"#)
        let prefix = Array(ResponsesFixture.streamEvents().prefix(4))
        let failed = record(ResponsesFixture.sse(prefix + [#"{"type":"response.failed","sequence_number":4,"response":"# + failedResponse + "}"]))
        #expect(failed.failed && !failed.isRecordable && !failed.isComplete)
        #expect(failed.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)

        let error = record(ResponsesFixture.sse(prefix + [#"{"type":"error","sequence_number":4,"code":"rate_limit_exceeded","message":"Slow down","param":null}"#]))
        #expect(error.failed && !error.isRecordable)
        #expect(error.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)

        // A failure reported after the answer completed is malformed too (nothing may follow).
        let afterwards = record(ResponsesFixture.sse(ResponsesFixture.streamEvents() + [#"{"type":"error","sequence_number":19,"code":null,"message":"x","param":null}"#]))
        #expect(afterwards.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)
    }

    @Test func nothingMayFollowTheTerminalEvent() {
        let events = ResponsesFixture.streamEvents()
        let extra = record(ResponsesFixture.sse(events + [events[6]]))
        #expect(extra.malformed)
        #expect(extra.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)
        let twice = record(ResponsesFixture.sse(events + [events.last!]))
        #expect(twice.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)
        var done = ResponsesFixture.sse(events)
        done += "data: [DONE]\n\n".utf8
        let withDone = record(done)
        #expect(withDone.malformed)
        #expect(withDone.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)
    }

    @Test func mixingChatChunksAndResponsesEventsIsMalformed() {
        let responses = ResponsesFixture.streamEvents()
        let chatFirst = record(sseBytes(Array(chatStreamEvents.prefix(2)) + responses))
        #expect(chatFirst.malformed && chatFirst.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)
        let responsesFirst = record(sseBytes(Array(responses.prefix(3)) + chatStreamEvents))
        #expect(responsesFirst.malformed && responsesFirst.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)
    }

    @Test func chatRuleIsUnchanged() throws {
        let chat = record(sseBytes(chatStreamEvents))
        #expect(chat.format == .chatCompletions && chat.isComplete)
        let entry = try #require(chat.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000))
        #expect(entry.answerFormat == .chatCompletions)
        #expect(entry.usage == .init(promptTokens: 12, completionTokens: 9, totalTokens: 21))
        // [DONE] without a finish_reason, or a finish_reason without [DONE], is not complete.
        #expect(!record(sseBytes(Array(chatStreamEvents.prefix(5)))).isComplete)
        #expect(!record(sseBytes(chatStreamEvents, done: false)).isComplete)
        // An event after [DONE] is malformed; a repeated [DONE] is not.
        var after = sseBytes(chatStreamEvents)
        after += "data: \(chatStreamEvents[0])\n\n".utf8
        #expect(record(after).malformed)
        var doubleDone = sseBytes(chatStreamEvents)
        doubleDone += "data: [DONE]\n\n".utf8
        #expect(record(doubleDone).finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) != nil)
    }

    @Test func byteByByteFeedsKeepMultiByteText() throws {
        let events = ResponsesFixture.streamEvents()
        let bytes = ResponsesFixture.sse(events)
        for slice in [1, 2, 3, 5, 7] {
            let recorder = record(bytes, slice: slice)
            #expect(recorder.isComplete, "slice \(slice)")
            let entry = try #require(recorder.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000))
            #expect(entry.body == .events(ResponsesFixture.bytes(events)), "slice \(slice)")
        }
        // The split lands inside "ü" (0xC3 0xBC) and inside "🌍" (4 bytes).
        let umlaut = try #require(bytes.firstIndex(of: 0xC3))
        let globe = try #require(bytes.firstIndex(of: 0xF0))
        var recorder = StreamRecorder(maxBytes: 1 << 20)
        recorder.feed(bytes[..<(umlaut + 1)])
        recorder.feed(bytes[(umlaut + 1) ..< (globe + 2)])
        recorder.feed(bytes[(globe + 2)...])
        let entry = try #require(recorder.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000))
        let assembled = try ResponsesStreamAssembler.assemble(events: { if case .events(let e) = entry.body { e } else { [] } }())
        #expect(String(decoding: assembled, as: UTF8.self).contains(ResponsesFixture.text))
    }

    @Test func oversizedStreamIsNotStored() {
        var small = StreamRecorder(maxBytes: 2000)
        small.feed(ResponsesFixture.sse(ResponsesFixture.streamEvents()))
        #expect(small.overLimit)
        #expect(small.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000) == nil)
    }
}

@Suite struct ResponsesJSONEntryTests {
    let headers = [(name: "Content-Type", value: "application/json")]

    func entry(_ json: String) -> CacheEntry? {
        CacheEntry.forJSONResponse(status: 200, headers: headers, body: Array(json.utf8), nowMs: 0, ttlMs: 1000, maxBytes: 1 << 20)
    }

    @Test func storedOnlyWhenCompletedOrIncomplete() throws {
        let completed = try #require(entry(ResponsesFixture.completedResponse))
        #expect(completed.model == "gpt-5-mini-2025-08-07")
        #expect(completed.usage == .init(promptTokens: 31, completionTokens: 47, totalTokens: 78))
        #expect(completed.answerFormat == .responses)
        let incomplete = ResponsesFixture.response(status: "incomplete", output: [ResponsesFixture.messageItem], usage: ResponsesFixture.usage,
                                                   incompleteDetails: #"{"reason":"content_filter"}"#)
        #expect(entry(incomplete) != nil)
        for status in ["queued", "in_progress", "failed", "cancelled"] {
            #expect(entry(ResponsesFixture.response(status: status, output: [])) == nil, "\(status)")
        }
        #expect(entry(ResponsesFixture.completedResponse.replacingOccurrences(of: #""status":"completed","#, with: "")) == nil)
    }

    @Test func nullErrorOfAResponseIsNotAnErrorDocument() {
        #expect(!CacheEntry.isErrorDocument(json: Array(ResponsesFixture.completedResponse.utf8)))
        let failed = ResponsesFixture.response(status: "failed", output: [])
            .replacingOccurrences(of: #""error":null"#, with: #""error":{"code":"server_error","message":"x"}"#)
        #expect(CacheEntry.isErrorDocument(json: Array(failed.utf8)))
        // Outside a Responses object a top-level `error`, even null, still is one (unchanged).
        #expect(CacheEntry.isErrorDocument(json: Array(#"{"id":"1","error":null}"#.utf8)))
    }
}

@Suite struct AnswerFormatTests {
    func entry(_ body: CacheEntry.Body) -> CacheEntry {
        CacheEntry(status: 200, headers: [], createdAtMs: 0, ttlMs: 1, model: nil, usage: nil, body: body)
    }

    @Test func toldFromTheBody() {
        #expect(entry(.json(Array(ResponsesFixture.completedResponse.utf8))).answerFormat == .responses)
        #expect(entry(.json(Array(#" { "object" : "response", "id":"r"}"#.utf8))).answerFormat == .responses)
        #expect(entry(.json(Array(#"{"object":"chat.completion","choices":[]}"#.utf8))).answerFormat == .chatCompletions)
        #expect(entry(.json(Array(#"{"object":"list","data":[{"object":"embedding"}]}"#.utf8))).answerFormat == .chatCompletions)
        #expect(entry(.json(Array(#"{"output":[{"object":"response"}]}"#.utf8))).answerFormat == .chatCompletions)
        #expect(entry(.events(ResponsesFixture.bytes(ResponsesFixture.streamEvents()))).answerFormat == .responses)
        #expect(entry(.events(chatStreamEvents.map { Array($0.utf8) })).answerFormat == .chatCompletions)
        #expect(entry(.events([])).answerFormat == .chatCompletions)
    }
}
