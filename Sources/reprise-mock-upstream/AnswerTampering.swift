import NIOCore

/// The answer-changing faults of `MockFaults`, applied to an answer before or after framing.
enum AnswerTampering {
    /// `X-Mock-Error-Body-200`: an OpenAI error document in place of the answer (same shape,
    /// JSON or events, so a streaming client gets it as one event: for the Responses API the
    /// `error` event it sends when a stream fails).
    static func errorDocument(replacing answer: AnswerBody) -> AnswerBody {
        let message = "Injected error document in a 200 answer (X-Mock-Error-Body-200)."
        let code = "mock_error_body_200"
        let document = OpenAIError.json(message: message, type: "server_error", code: code)
        switch answer {
        case .json:
            return .json(document)
        case .events(let events) where events.first?.name != nil:
            return .events([
                ServerSentEvent(
                    name: "error",
                    data: "{\"type\":\"error\",\"sequence_number\":0,\"code\":\(JSONText.quoted(code)),"
                        + "\"message\":\(JSONText.quoted(message)),\"param\":null}"
                )
            ])
        case .events:
            return .events(data: [document, "[DONE]"])
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
        case .events(let events):
            return .events(events.map { ServerSentEvent(name: $0.name, data: mark($0.data)) })
        }
    }

    /// `X-Mock-Truncate-Chunk`: the first half of the stream's events, then a chunk whose size
    /// line announces the next event in full while only half of it follows. Played with
    /// `cutAfter` set to the event count, so the connection closes right after it.
    static func truncatedStream(_ body: ResponsePlan.Body) -> (body: ResponsePlan.Body, eventCount: Int)? {
        guard case .stream(let head, let events) = body, !events.isEmpty else { return nil }
        let kept = events.count / 2
        guard let partial = events[kept].truncated() else { return nil }
        let played = Array(events[..<kept]) + [partial]
        return (.stream(head: head, events: played), played.count)
    }
}
