/// A successful answer before HTTP framing: one JSON document, or the data payloads of SSE
/// events (the last one `[DONE]`).
enum AnswerBody {
    case json(String)
    case events([String])
}
