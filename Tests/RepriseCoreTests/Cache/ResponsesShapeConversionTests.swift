import Foundation
import Testing
@testable import RepriseCore

@Suite struct ResponsesShapeConversionTests {
    func events(of bytes: [UInt8]) throws -> [SSEEvent] {
        var parser = SSEParser()
        return try parser.feed(bytes)
    }

    func type(_ event: [UInt8]) -> String? { jsonObject(event)?["type"] as? String }

    @Test func assemblerReturnsTheTerminalResponse() throws {
        let events = ResponsesFixture.bytes(ResponsesFixture.streamEvents())
        let assembled = try ResponsesStreamAssembler.assemble(events: events)
        #expect(assembled == Array(ResponsesFixture.completedResponse.utf8))
        let output = try #require(jsonObject(assembled)?["output"] as? [NSDictionary])
        #expect(output.map { $0["type"] as? String } == ["reasoning", "message", "function_call"])
        #expect(output[2]["arguments"] as? String == ResponsesFixture.arguments)

        let incomplete = ResponsesFixture.response(status: "incomplete", output: [ResponsesFixture.messageItem], usage: ResponsesFixture.usage)
        let cut = ResponsesFixture.bytes(ResponsesFixture.streamEvents(terminal: "response.incomplete", terminalResponse: incomplete))
        #expect(try ResponsesStreamAssembler.assemble(events: cut) == Array(incomplete.utf8))
    }

    @Test func assemblerRebuildsAMissingOutputFromTheDoneItems() throws {
        let withoutOutput = ResponsesFixture.completedResponse.replacingOccurrences(
            of: #""output":[\#(ResponsesFixture.reasoningItem),\#(ResponsesFixture.messageItem),\#(ResponsesFixture.functionCallItem)],"#, with: "")
        #expect(withoutOutput != ResponsesFixture.completedResponse)
        let events = ResponsesFixture.bytes(ResponsesFixture.streamEvents(terminalResponse: withoutOutput))
        let assembled = try #require(jsonObject(try ResponsesStreamAssembler.assemble(events: events)))
        #expect(assembled == jsonObject(Array(ResponsesFixture.completedResponse.utf8)))
    }

    /// Fuzz finding (sse): a response without `output` came back with `"output": []` added.
    @Test func responseWithoutOutputRoundTripsUnchanged() throws {
        let bare = Array(#"{"id":"resp_1","object":"response","status":"completed","model":"m","uotput":[]}"#.utf8)
        let synthesized = try ResponsesStreamSynthesizer.synthesize(json: bare)
        #expect(try ResponsesStreamAssembler.assemble(events: synthesized) == bare)
    }

    @Test func assemblerRefusesAStreamWithoutTerminalEvent() {
        let events = ResponsesFixture.bytes(Array(ResponsesFixture.streamEvents().dropLast()))
        #expect(throws: ShapeConversionError.self) { try ResponsesStreamAssembler.assemble(events: events) }
        #expect(throws: ShapeConversionError.self) { try ResponsesStreamAssembler.assemble(events: []) }
        #expect(throws: ShapeConversionError.self) {
            try ResponsesStreamAssembler.assemble(events: [Array(#"{"type":"response.completed","sequence_number":0,"response":null}"#.utf8)])
        }
    }

    @Test func synthesizedStreamFollowsTheAPIsEventOrder() throws {
        let synthesized = try ResponsesStreamSynthesizer.synthesize(json: Array(ResponsesFixture.completedResponse.utf8))
        #expect(synthesized.map(type) == [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.output_item.done",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta",
            "response.output_text.annotation.added", "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ])
        #expect(synthesized.map { jsonObject($0)?["sequence_number"] as? Int } == Array(0 ..< synthesized.count))
        let created = try #require(jsonObject(synthesized[0])?["response"] as? NSDictionary)
        #expect(created["status"] as? String == "in_progress" && (created["output"] as? [Any])?.isEmpty == true && created["usage"] is NSNull)
        #expect(created["id"] as? String == "resp_68af00")
        let messageAdded = try #require(jsonObject(synthesized[4]))
        #expect(messageAdded["output_index"] as? Int == 1)
        let addedItem = try #require(messageAdded["item"] as? NSDictionary)
        #expect(addedItem["status"] as? String == "in_progress" && (addedItem["content"] as? [Any])?.isEmpty == true)
        let delta = try #require(jsonObject(synthesized[6]))
        #expect(delta["delta"] as? String == ResponsesFixture.text && delta["item_id"] as? String == "msg_68af02")
        #expect(delta["content_index"] as? Int == 0 && (delta["logprobs"] as? [Any])?.isEmpty == true)
        let callAdded = try #require(jsonObject(synthesized[11])?["item"] as? NSDictionary)
        #expect(callAdded["arguments"] as? String == "" && callAdded["call_id"] as? String == "call_Xy12")
        let callDone = try #require(jsonObject(synthesized[13]))
        #expect(callDone["arguments"] as? String == ResponsesFixture.arguments && callDone["item_id"] as? String == "fc_68af03")
    }

    @Test func synthesizedStreamRecordsAndAssemblesBackToTheResponse() throws {
        let original = Array(ResponsesFixture.completedResponse.utf8)
        let synthesized = try ResponsesStreamSynthesizer.synthesize(json: original)
        let encoded = SSEEncoder.encodeResponsesStream(events: synthesized)
        // Every event is named after its type; no [DONE].
        let parsed = try events(of: encoded)
        #expect(parsed.map(\.event) == synthesized.map(type))
        #expect(!parsed.contains { $0.data == SSEEncoder.doneData })

        var recorder = StreamRecorder(maxBytes: 1 << 20)
        for byte in encoded { recorder.feed(CollectionOfOne(byte)) }
        #expect(recorder.isComplete)
        let entry = try #require(recorder.finish(status: 200, headers: [], nowMs: 0, ttlMs: 1000))
        #expect(entry.usage == .init(promptTokens: 31, completionTokens: 47, totalTokens: 78))
        guard case .events(let recorded) = entry.body else { Issue.record("not a stream entry"); return }
        #expect(recorded == synthesized)
        #expect(try ResponsesStreamAssembler.assemble(events: recorded) == original)
    }

    @Test func recordedStreamConvertsToJSONAndBack() throws {
        let recorded = ResponsesFixture.bytes(ResponsesFixture.streamEvents())
        let json = try ResponsesStreamAssembler.assemble(events: recorded)
        let again = try ResponsesStreamSynthesizer.synthesize(json: json)
        #expect(try ResponsesStreamAssembler.assemble(events: again) == json)
    }

    @Test func incompleteAndRefusalAndPrettyPrintedResponses() throws {
        let refusalItem = #"{"id":"msg_2","type":"message","status":"incomplete","content":[{"type":"refusal","refusal":"I can’t help with that."}],"role":"assistant"}"#
        let incomplete = ResponsesFixture.response(status: "incomplete", output: [refusalItem], usage: ResponsesFixture.usage,
                                                   incompleteDetails: #"{"reason":"content_filter"}"#)
        let synthesized = try ResponsesStreamSynthesizer.synthesize(json: Array(incomplete.utf8))
        #expect(synthesized.map(type) == ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                                          "response.refusal.delta", "response.refusal.done", "response.content_part.done",
                                          "response.output_item.done", "response.incomplete"])
        #expect(jsonObject(synthesized[4])?["delta"] as? String == "I can’t help with that.")
        let inProgress = try #require(jsonObject(synthesized[1])?["response"] as? NSDictionary)
        #expect(inProgress["incomplete_details"] is NSNull)
        #expect(try ResponsesStreamAssembler.assemble(events: synthesized) == Array(incomplete.utf8))

        // A pretty-printed stored body: the terminal event stays one data line and parses.
        let pretty = try JSONSerialization.data(withJSONObject: try #require(jsonObject(Array(ResponsesFixture.completedResponse.utf8))),
                                                options: [.prettyPrinted])
        let fromPretty = try ResponsesStreamSynthesizer.synthesize(json: Array(pretty))
        #expect(!fromPretty.last!.contains(0x0A))
        #expect(jsonObject(try ResponsesStreamAssembler.assemble(events: fromPretty)) == jsonObject(Array(ResponsesFixture.completedResponse.utf8)))
    }

    @Test func synthesizerRefusesWhatIsNotAFinishedResponse() {
        for body in [ResponsesFixture.response(status: "in_progress", output: []), ResponsesFixture.response(status: "failed", output: []),
                     #"{"object":"chat.completion","choices":[]}"#, "[]", "not json"] {
            #expect(throws: ShapeConversionError.self, "\(body)") { try ResponsesStreamSynthesizer.synthesize(json: Array(body.utf8)) }
        }
    }

    @Test func encoderNamesEventsOnlyWithPlainTypes() {
        let events = [Array(#"{"type":"response.created","sequence_number":0}"#.utf8), Array("{\"type\":\"a\\nb\"}".utf8),
                      Array(#"{"no_type":1}"#.utf8), Array("{\"type\":\"x\ny\",\n\"k\":1}".utf8)]
        let encoded = String(decoding: SSEEncoder.encodeResponsesStream(events: events), as: UTF8.self)
        #expect(encoded == "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0}\n\n"
            + "data: {\"type\":\"a\\nb\"}\n\n" + "data: {\"no_type\":1}\n\n" + "data: {\"type\":\"x\ndata: y\",\ndata: \"k\":1}\n\n")
    }
}
