/// The `response` object of OpenAI's Responses API around an answer's output: its id, status
/// and usage, and the request's settings echoed (or their defaults) as the real API does.
struct ResponsesDocument {
    let seed: AnswerSeed

    var id: String { "resp_" + seed.idSuffix(salt: 0x4E5, digits: 48) }

    /// `status` "in_progress" (of `response.created`, `response.in_progress`: no output, no
    /// usage yet) or "completed".
    func json(completed: Bool, output: [ResponsesOutputItem], usage: String) -> String {
        let request = seed.request
        func echo(_ name: String, default fallback: String = "null") -> String {
            request[name].map(\.jsonText) ?? fallback
        }
        let reasoning = request["reasoning"]
        let effort = reasoning?["effort"]?.jsonText ?? (seed.reasons ? "\"medium\"" : "null")
        var json = "{\"id\":\(JSONText.quoted(id)),\"object\":\"response\",\"created_at\":\(seed.created),"
            + "\"status\":\(completed ? "\"completed\"" : "\"in_progress\""),\"background\":\(echo("background", default: "false")),"
            + "\"completed_at\":\(completed ? String(seed.created + 1) : "null"),"
        if let conversation = request["conversation"] {
            let value = conversation.stringValue.map { "{\"id\":\(JSONText.quoted($0))}" } ?? conversation.jsonText
            json += "\"conversation\":\(value),"
        }
        json += "\"error\":null,\"incomplete_details\":null,\"instructions\":\(echo("instructions")),"
            + "\"max_output_tokens\":\(echo("max_output_tokens")),\"max_tool_calls\":\(echo("max_tool_calls")),"
            + "\"model\":\(JSONText.quoted(seed.model)),"
            + "\"output\":[\(completed ? output.map { $0.json(completed: true) }.joined(separator: ",") : "")],"
            + "\"parallel_tool_calls\":\(echo("parallel_tool_calls", default: "true")),"
            + "\"previous_response_id\":\(echo("previous_response_id")),\"prompt_cache_key\":\(echo("prompt_cache_key")),"
            + "\"reasoning\":{\"effort\":\(effort),\"summary\":\(reasoning?["summary"]?.jsonText ?? "null")},"
            + "\"safety_identifier\":\(echo("safety_identifier")),\"service_tier\":\"default\","
            + "\"store\":\(echo("store", default: "true")),"
            + "\"temperature\":\(request["temperature"]?.floatText ?? "1.0"),"
            + "\"text\":\(echo("text", default: "{\"format\":{\"type\":\"text\"},\"verbosity\":\"medium\"}")),"
            + "\"tool_choice\":\(echo("tool_choice", default: "\"auto\"")),\"tools\":\(echo("tools", default: "[]")),"
            + "\"top_logprobs\":\(echo("top_logprobs", default: "0")),"
            + "\"top_p\":\(request["top_p"]?.floatText ?? "1.0"),\"truncation\":\(echo("truncation", default: "\"disabled\"")),"
            + "\"usage\":\(completed ? usage : "null"),\"user\":\(echo("user")),\"metadata\":\(echo("metadata", default: "{}"))}"
        return json
    }

    /// Responses usage: input and output tokens with their details.
    static func usageJSON(_ seed: AnswerSeed, outputTokens: Int, reasoningTokens: Int) -> String {
        if let override = seed.usageOverride { return override }
        let input = seed.promptTokens
        return "{\"input_tokens\":\(input),\"input_tokens_details\":{\"cached_tokens\":0,\"cache_write_tokens\":0},"
            + "\"output_tokens\":\(outputTokens),\"output_tokens_details\":{\"reasoning_tokens\":\(reasoningTokens)},"
            + "\"total_tokens\":\(input + outputTokens)}"
    }
}
