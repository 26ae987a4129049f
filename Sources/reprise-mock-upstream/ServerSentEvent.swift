/// One SSE event before framing: its `data:` payload and, for the Responses API, its `event:`
/// name (chat and completions streams carry no name).
struct ServerSentEvent: Equatable {
    var name: String?
    var data: String

    init(name: String? = nil, data: String) {
        self.name = name
        self.data = data
    }

    /// `event: NAME\n` (when named) `data: DATA\n\n`: the bytes inside the HTTP chunk.
    var text: String {
        (name.map { "event: " + $0 + "\n" } ?? "") + "data: " + data + "\n\n"
    }
}
