/// A successful answer before HTTP framing: one JSON document, or SSE events (the last one
/// `[DONE]` for chat and completions, `response.completed` for the Responses API).
enum AnswerBody {
    case json(String)
    case events([ServerSentEvent])

    /// Unnamed events from their data payloads (chat and completions streams).
    static func events(data payloads: [String]) -> AnswerBody {
        .events(payloads.map { ServerSentEvent(data: $0) })
    }
}
