/// One item of a Responses API answer's `output`, written as the real API writes it.
enum ResponsesOutputItem {
    /// A reasoning model's reasoning (its text is not exposed: an empty summary).
    case reasoning(id: String)
    case message(id: String, text: String)
    case functionCall(id: String, callID: String, name: String, arguments: String)

    var id: String {
        switch self {
        case .reasoning(let id), .message(let id, _), .functionCall(let id, _, _, _): return id
        }
    }

    /// The item as `output` and `response.output_item.done` carry it (`completed`), or as
    /// `response.output_item.added` announces it: in progress, no content, no arguments yet.
    func json(completed: Bool) -> String {
        let status = completed ? "\"completed\"" : "\"in_progress\""
        switch self {
        case .reasoning(let id):
            return "{\"id\":\(JSONText.quoted(id)),\"type\":\"reasoning\",\"summary\":[]}"
        case .message(let id, let text):
            let content = completed ? Self.outputText(text) : ""
            return "{\"id\":\(JSONText.quoted(id)),\"type\":\"message\",\"status\":\(status),"
                + "\"content\":[\(content)],\"role\":\"assistant\"}"
        case .functionCall(let id, let callID, let name, let arguments):
            return "{\"id\":\(JSONText.quoted(id)),\"type\":\"function_call\",\"status\":\(status),"
                + "\"arguments\":\(JSONText.quoted(completed ? arguments : "")),"
                + "\"call_id\":\(JSONText.quoted(callID)),\"name\":\(JSONText.quoted(name))}"
        }
    }

    /// An `output_text` content part.
    static func outputText(_ text: String) -> String {
        "{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":\(JSONText.quoted(text))}"
    }
}
