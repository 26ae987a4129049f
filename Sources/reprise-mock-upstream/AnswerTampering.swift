import NIOCore

/// The answer-changing faults of `MockFaults`, applied to an answer before or after framing.
enum AnswerTampering {
    /// `X-Mock-Error-Body-200`: an OpenAI error document in place of the answer (same shape,
    /// JSON or events, so a streaming client gets it as one event).
    static func errorDocument(replacing answer: AnswerBody) -> AnswerBody {
        let document = OpenAIError.json(
            message: "Injected error document in a 200 answer (X-Mock-Error-Body-200).",
            type: "server_error",
            code: "mock_error_body_200"
        )
        switch answer {
        case .json: return .json(document)
        case .events: return .events([document, "[DONE]"])
        }
    }

    /// `X-Mock-Marker`: `"mock_marker":"TEXT"` as the first member of the document and of
    /// every event but `[DONE]`.
    static func marked(_ answer: AnswerBody, marker: String) -> AnswerBody {
        let member = "\"mock_marker\":" + JSONText.quoted(marker) + ","
        func mark(_ document: String) -> String {
            guard document.first == "{" else { return document }
            return "{" + member + document.dropFirst()
        }
        switch answer {
        case .json(let document): return .json(mark(document))
        case .events(let events): return .events(events.map(mark))
        }
    }

    /// `X-Mock-Truncate-Chunk`: the first half of the stream's events, then a chunk whose size
    /// line announces the next event in full while only half of it follows. Played with
    /// `cutAfter` set to the event count, so the connection closes right after it.
    static func truncatedStream(_ body: ResponsePlan.Body) -> (body: ResponsePlan.Body, eventCount: Int)? {
        guard case .stream(let head, let events) = body, !events.isEmpty else { return nil }
        let kept = events.count / 2
        var partial = events[kept]
        guard let sizeLineEnd = partial.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let sizeLineLength = sizeLineEnd - partial.readerIndex + 1
        let payloadLength = partial.readableBytes - sizeLineLength
        partial.moveWriterIndex(to: partial.readerIndex + sizeLineLength + payloadLength / 2)
        let played = Array(events[..<kept]) + [partial]
        return (.stream(head: head, events: played), played.count)
    }
}
