/// `POST /v1/chat/completions`: a text answer, or a call of the first tool when the request
/// declares tools; as one JSON document or as `chat.completion.chunk` SSE events. A reasoning
/// model's text answer comes with its reasoning, as DeepSeek sends it (`reasoning_content`).
enum ChatCompletionAnswer {
    static func make(_ seed: AnswerSeed, stream: Bool) -> AnswerBody {
        let tool = firstTool(of: seed.request)
        switch (tool, stream) {
        case (nil, false): return .json(textJSON(seed))
        case (nil, true): return .events(data: textEvents(seed))
        case (let name?, false): return .json(toolJSON(seed, toolName: name))
        case (let name?, true): return .events(data: toolEvents(seed, toolName: name))
        }
    }

    private static func firstTool(of request: JSONValue) -> (name: String, parameters: JSONValue?)? {
        guard let tools = request["tools"]?.arrayValue, let first = tools.first else { return nil }
        let function = first["function"]
        let name = function?["name"]?.stringValue ?? "tool"
        return (name, function?["parameters"])
    }

    private static func id(_ seed: AnswerSeed) -> String { "chatcmpl-" + seed.idSuffix() }

    private static func documentPrefix(_ seed: AnswerSeed) -> String {
        "{\"id\":\"\(id(seed))\",\"object\":\"chat.completion\",\"created\":\(seed.created),"
            + "\"model\":\(JSONText.quoted(seed.model)),\"choices\":["
    }

    /// The reasoning of a reasoning model's answer, and its token count.
    static func reasoning(_ seed: AnswerSeed) -> (text: String, words: Int)? {
        seed.reasons ? seed.sentence(salt: 0x4EA5) : nil
    }

    private static func textJSON(_ seed: AnswerSeed) -> String {
        let (content, words) = seed.sentence()
        guard let reasoning = reasoning(seed) else {
            return documentPrefix(seed)
                + "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\(JSONText.quoted(content)),"
                + "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                + "\"usage\":\(seed.usageJSON(completionTokens: words)),\"system_fingerprint\":\"fp_mock\"}"
        }
        let usage = seed.usageJSON(completionTokens: words + reasoning.words, reasoningTokens: reasoning.words)
        return documentPrefix(seed)
            + "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\(JSONText.quoted(content)),"
            + "\"reasoning_content\":\(JSONText.quoted(reasoning.text))},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
            + "\"usage\":\(usage),\"system_fingerprint\":\"fp_mock\"}"
    }

    private static func toolJSON(_ seed: AnswerSeed, toolName: (name: String, parameters: JSONValue?)) -> String {
        let arguments = ToolArguments.make(seed, parameters: toolName.parameters)
        return documentPrefix(seed)
            + "{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
            + "{\"id\":\"call_\(seed.idSuffix(salt: 7))\",\"type\":\"function\",\"function\":"
            + "{\"name\":\(JSONText.quoted(toolName.name)),\"arguments\":\(JSONText.quoted(arguments))}}],"
            + "\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],"
            + "\"usage\":\(seed.usageJSON(completionTokens: ToolArguments.tokens(arguments))),"
            + "\"system_fingerprint\":\"fp_mock\"}"
    }

    private static func chunkPrefix(_ seed: AnswerSeed) -> String {
        "{\"id\":\"\(id(seed))\",\"object\":\"chat.completion.chunk\",\"created\":\(seed.created),"
            + "\"model\":\(JSONText.quoted(seed.model)),\"system_fingerprint\":\"fp_mock\",\"choices\":["
    }

    /// Wraps choice objects into chunks; with `include_usage`, every chunk carries
    /// `"usage":null` and a last chunk with empty `choices` carries the usage, like OpenAI.
    private static func chunks(
        _ seed: AnswerSeed,
        choices: [String],
        completionTokens: Int,
        reasoningTokens: Int? = nil
    ) -> [String] {
        let prefix = chunkPrefix(seed)
        let suffix = seed.includeUsageInStream ? "],\"usage\":null}" : "]}"
        var events = choices.map { prefix + $0 + suffix }
        if seed.includeUsageInStream {
            let usage = seed.usageJSON(completionTokens: completionTokens, reasoningTokens: reasoningTokens)
            events.append(prefix + "],\"usage\":\(usage)}")
        }
        events.append("[DONE]")
        return events
    }

    private static func deltaChoice(_ delta: String, finishReason: String? = nil) -> String {
        let finish = finishReason.map { "\"\($0)\"" } ?? "null"
        return "{\"index\":0,\"delta\":\(delta),\"logprobs\":null,\"finish_reason\":\(finish)}"
    }

    private static func textEvents(_ seed: AnswerSeed) -> [String] {
        let (content, words) = seed.sentence()
        if let reasoning = reasoning(seed) {
            return reasoningEvents(seed, content: content, words: words, reasoning: reasoning)
        }
        var choices = [deltaChoice("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}")]
        for piece in AnswerSeed.split(content, into: seed.chunks) {
            choices.append(deltaChoice("{\"content\":\(JSONText.quoted(piece))}"))
        }
        choices.append(deltaChoice("{}", finishReason: "stop"))
        return chunks(seed, choices: choices, completionTokens: words)
    }

    /// DeepSeek's order: the reasoning deltas (`content` null), then the content deltas
    /// (`reasoning_content` null), each split into `chunks` pieces.
    private static func reasoningEvents(
        _ seed: AnswerSeed,
        content: String,
        words: Int,
        reasoning: (text: String, words: Int)
    ) -> [String] {
        var choices = [deltaChoice("{\"role\":\"assistant\",\"content\":null,\"reasoning_content\":\"\"}")]
        for piece in AnswerSeed.split(reasoning.text, into: seed.chunks) {
            choices.append(deltaChoice("{\"content\":null,\"reasoning_content\":\(JSONText.quoted(piece))}"))
        }
        for piece in AnswerSeed.split(content, into: seed.chunks) {
            choices.append(deltaChoice("{\"content\":\(JSONText.quoted(piece)),\"reasoning_content\":null}"))
        }
        choices.append(deltaChoice("{\"content\":\"\",\"reasoning_content\":null}", finishReason: "stop"))
        return chunks(
            seed,
            choices: choices,
            completionTokens: words + reasoning.words,
            reasoningTokens: reasoning.words
        )
    }

    private static func toolEvents(_ seed: AnswerSeed, toolName: (name: String, parameters: JSONValue?)) -> [String] {
        let arguments = ToolArguments.make(seed, parameters: toolName.parameters)
        var choices = [
            deltaChoice(
                "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,"
                    + "\"id\":\"call_\(seed.idSuffix(salt: 7))\",\"type\":\"function\",\"function\":"
                    + "{\"name\":\(JSONText.quoted(toolName.name)),\"arguments\":\"\"}}],\"refusal\":null}"
            )
        ]
        for fragment in AnswerSeed.split(arguments, into: seed.chunks) {
            choices.append(
                deltaChoice(
                    "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\(JSONText.quoted(fragment))}}]}"
                )
            )
        }
        choices.append(deltaChoice("{}", finishReason: "tool_calls"))
        return chunks(seed, choices: choices, completionTokens: ToolArguments.tokens(arguments))
    }
}
