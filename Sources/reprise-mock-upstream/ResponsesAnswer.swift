/// `POST /v1/responses` (OpenAI's Responses API): a `message` item with the text answer, or a
/// `function_call` item of the first function tool when the request declares one, after a
/// `reasoning` item for reasoning models; as one `response` document or as the `response.*`
/// event sequence, which ends with `response.completed` and no `[DONE]`, like the real API.
///
/// The seed of a Responses answer leaves `stream` and `stream_options` out (see `MockRouter`),
/// so a streamed request's deltas add up to the JSON answer of the same request.
enum ResponsesAnswer {
    static func make(_ seed: AnswerSeed, stream: Bool) -> AnswerBody {
        var output: [ResponsesOutputItem] = []
        var reasoningTokens = 0
        if let reasoning = ChatCompletionAnswer.reasoning(seed) {
            output.append(.reasoning(id: "rs_" + seed.idSuffix(salt: 0x4E6, digits: 48)))
            reasoningTokens = reasoning.words
        }
        let outputTokens: Int
        if let tool = firstFunctionTool(of: seed.request) {
            let arguments = ToolArguments.make(seed, parameters: tool.parameters)
            output.append(
                .functionCall(
                    id: "fc_" + seed.idSuffix(salt: 0x4E7, digits: 48),
                    callID: "call_" + seed.idSuffix(salt: 7),
                    name: tool.name,
                    arguments: arguments
                )
            )
            outputTokens = ToolArguments.tokens(arguments) + reasoningTokens
        } else {
            let (text, words) = seed.sentence()
            output.append(.message(id: "msg_" + seed.idSuffix(salt: 0x4E8, digits: 48), text: text))
            outputTokens = words + reasoningTokens
        }
        let document = ResponsesDocument(seed: seed)
        let usage = ResponsesDocument.usageJSON(seed, outputTokens: outputTokens, reasoningTokens: reasoningTokens)
        guard stream else {
            return .json(document.json(completed: true, output: output, usage: usage))
        }
        return .events(events(seed, document: document, output: output, usage: usage))
    }

    /// The first tool of type `function`, in the Responses shape (`name`, `parameters` at the
    /// top level) or the chat shape (inside `function`).
    private static func firstFunctionTool(of request: JSONValue) -> (name: String, parameters: JSONValue?)? {
        guard let tool = request["tools"]?.arrayValue?.first(where: { $0["type"]?.stringValue == "function" }) else {
            return nil
        }
        let name = tool["name"]?.stringValue ?? tool["function"]?["name"]?.stringValue ?? "tool"
        return (name, tool["parameters"] ?? tool["function"]?["parameters"])
    }

    private static func events(
        _ seed: AnswerSeed,
        document: ResponsesDocument,
        output: [ResponsesOutputItem],
        usage: String
    ) -> [ServerSentEvent] {
        var sequence = EventSequence()
        let inProgress = document.json(completed: false, output: output, usage: usage)
        sequence.append("response.created", "\"response\":" + inProgress)
        sequence.append("response.in_progress", "\"response\":" + inProgress)
        for (index, item) in output.enumerated() {
            let itemID = JSONText.quoted(item.id)
            let position = "\"item_id\":\(itemID),\"output_index\":\(index)"
            sequence.append("response.output_item.added", "\"output_index\":\(index),\"item\":" + item.json(completed: false))
            switch item {
            case .reasoning:
                break
            case .message(_, let text):
                let part = position + ",\"content_index\":0"
                sequence.append("response.content_part.added", part + ",\"part\":" + ResponsesOutputItem.outputText(""))
                for piece in AnswerSeed.split(text, into: seed.chunks) where !piece.isEmpty {
                    sequence.append("response.output_text.delta", part + ",\"delta\":\(JSONText.quoted(piece)),\"logprobs\":[]")
                }
                sequence.append("response.output_text.done", part + ",\"text\":\(JSONText.quoted(text)),\"logprobs\":[]")
                sequence.append("response.content_part.done", part + ",\"part\":" + ResponsesOutputItem.outputText(text))
            case .functionCall(_, _, _, let arguments):
                for piece in AnswerSeed.split(arguments, into: seed.chunks) where !piece.isEmpty {
                    sequence.append("response.function_call_arguments.delta", position + ",\"delta\":\(JSONText.quoted(piece))")
                }
                sequence.append("response.function_call_arguments.done", position + ",\"arguments\":\(JSONText.quoted(arguments))")
            }
            sequence.append("response.output_item.done", "\"output_index\":\(index),\"item\":" + item.json(completed: true))
        }
        sequence.append("response.completed", "\"response\":" + document.json(completed: true, output: output, usage: usage))
        return sequence.events
    }
}
