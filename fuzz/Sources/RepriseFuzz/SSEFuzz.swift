import Foundation
import RepriseCore

/// The SSE parser and the stream recorder on arbitrary bytes cut at arbitrary points (the first
/// input byte seeds the cutting): never trap; the parser yields the same events however the
/// bytes are cut; a recorded entry converts to the other shape and back without trapping
/// (conversion errors are allowed, they make a miss), with the converters of the API it
/// answers (Chat Completions or Responses). A Responses stream synthesized from a JSON answer
/// records as complete and assembles back to that answer.
enum SSEFuzz {
    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let seed = input.byte()
        let stream = input.rest
        let pieces = FuzzInput.pieces(of: stream, seed: seed)

        var whole = SSEParser(maxLineBytes: 4096)
        let wholeEvents = try? whole.feed(stream)
        var cut = SSEParser(maxLineBytes: 4096)
        var cutEvents: [SSEEvent]? = []
        for piece in pieces {
            guard let events = try? cut.feed(piece) else { cutEvents = nil; break }
            cutEvents?.append(contentsOf: events)
        }
        if let wholeEvents, let cutEvents {
            precondition(wholeEvents == cutEvents, "the events depend on where the stream was cut")
        }

        var recorder = StreamRecorder(maxBytes: 1 << 16, maxLineBytes: 4096)
        for piece in pieces { recorder.feed(piece) }
        let headers = [(name: "Content-Type", value: "text/event-stream")]
        if let entry = recorder.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000), case .events(let events) = entry.body {
            switch entry.answerFormat {
            case .chatCompletions:
                _ = SSEEncoder.encodeStream(events: events)
                if let document = try? StreamAssembler.assemble(events: events) {
                    _ = try? StreamSynthesizer.synthesize(json: document, includeUsage: true)
                }
            case .responses:
                _ = SSEEncoder.encodeResponsesStream(events: events)
                if let document = try? ResponsesStreamAssembler.assemble(events: events) {
                    checkResponsesRoundTrip(json: document)
                }
            }
        }
        // The payload as a non-streamed answer, and through the synthesizers.
        if let entry = CacheEntry.forJSONResponse(status: 200, headers: headers, body: stream, nowMs: 0, ttlMs: 1000, maxBytes: 1 << 16) {
            _ = entry.answerFormat
        }
        _ = try? StreamSynthesizer.synthesize(json: stream, includeUsage: seed & 1 == 0)
        checkResponsesRoundTrip(json: stream)
    }

    /// A Responses stream synthesized from `json` (when it is a finished response) is complete
    /// for the recorder, whatever the cutting, and assembles back to `json` without its line breaks.
    static func checkResponsesRoundTrip(json: [UInt8]) {
        guard let synthesized = try? ResponsesStreamSynthesizer.synthesize(json: json) else { return }
        let encoded = SSEEncoder.encodeResponsesStream(events: synthesized)
        var recorder = StreamRecorder(maxBytes: 1 << 20, maxLineBytes: 1 << 20)
        for piece in FuzzInput.pieces(of: encoded, seed: UInt8(truncatingIfNeeded: json.count)) { recorder.feed(piece) }
        precondition(recorder.isComplete && recorder.isRecordable, "a synthesized Responses stream does not record as complete")
        guard let entry = recorder.finish(status: 200, headers: [], nowMs: 0, ttlMs: 1000), case .events(let events) = entry.body else {
            preconditionFailure("a synthesized Responses stream was not stored")
        }
        precondition(events == synthesized, "the recorded events differ from the synthesized ones")
        precondition(entry.answerFormat == .responses, "a synthesized Responses stream is not told as one")
        guard let assembled = try? ResponsesStreamAssembler.assemble(events: events) else {
            preconditionFailure("a synthesized Responses stream does not assemble")
        }
        // A compact UTF-8 object comes back byte for byte; any other one (whitespace, a BOM)
        // settles after one trip. One with two `output` members is read by the byte scanner
        // (first) and Foundation (last) differently, and comes back with its output rebuilt:
        // other bytes, the same document.
        if json.first == UInt8(ascii: "{"), json.last == UInt8(ascii: "}"), !json.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }) {
            precondition(assembled == json || sameDocument(assembled, json), "a synthesized Responses stream assembles to another document")
        }
        if let again = try? ResponsesStreamSynthesizer.synthesize(json: assembled) {
            precondition((try? ResponsesStreamAssembler.assemble(events: again)) == assembled, "the Responses round trip does not settle")
        } else {
            preconditionFailure("an assembled Responses answer does not synthesize again")
        }
    }

    static func sameDocument(_ first: [UInt8], _ second: [UInt8]) -> Bool {
        guard let one = (try? JSONSerialization.jsonObject(with: Data(first))) as? NSDictionary,
              let other = (try? JSONSerialization.jsonObject(with: Data(second))) as? NSDictionary else { return false }
        return one == other
    }
}
