/// Which API's answer a cache entry holds, so a replay in the other shape (JSON ↔ stream) uses
/// that API's converters.
public enum AnswerFormat: Sendable, Equatable {
    /// Chat Completions and its relatives (legacy Completions, embeddings): a JSON document, or
    /// `data:`-only chunk events that end with `data: [DONE]` on replay.
    case chatCompletions
    /// OpenAI's Responses API: a `response` object, or named events (`event: response.…`) whose
    /// data carry their `type`, ending with `response.completed` / `response.incomplete` and no
    /// `[DONE]`.
    case responses

    /// The format of a JSON answer: `"object": "response"` is a Responses object. One scan of
    /// the top-level members (it runs once per `CachedAnswer`).
    init(json: [UInt8]) {
        self = Self.topLevelString("object", of: json) == "response" ? .responses : .chatCompletions
    }

    /// The format of a recorded stream, from its first event (`StreamRecorder` refuses a stream
    /// whose events mix the two).
    init(events: [[UInt8]]) {
        guard let first = events.first else {
            self = .chatCompletions
            return
        }
        let type = Self.topLevelString("type", of: first)
        self = type?.hasPrefix("response.") == true ? .responses : .chatCompletions
    }

    private static func topLevelString(_ name: String, of json: [UInt8]) -> String? {
        let scanner = JSONFieldScanner(bytes: json)
        guard let members = scanner.members(ofObjectAt: 0), let range = scanner.member(name, in: members) else { return nil }
        return scanner.simpleString(range)
    }
}
