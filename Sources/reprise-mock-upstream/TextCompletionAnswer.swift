/// `POST /v1/completions` (legacy): `text_completion` documents and chunks.
enum TextCompletionAnswer {
    static func make(_ seed: AnswerSeed, stream: Bool) -> AnswerBody {
        let (text, words) = seed.sentence()
        let prefix =
            "{\"id\":\"cmpl-\(seed.idSuffix())\",\"object\":\"text_completion\",\"created\":\(seed.created),"
            + "\"model\":\(JSONText.quoted(seed.model)),\"system_fingerprint\":\"fp_mock\",\"choices\":["
        guard stream else {
            return .json(
                prefix + "{\"text\":\(JSONText.quoted(text)),\"index\":0,\"logprobs\":null,"
                    + "\"finish_reason\":\"stop\"}],\"usage\":\(seed.usageJSON(completionTokens: words))}"
            )
        }
        let suffix = seed.includeUsageInStream ? "],\"usage\":null}" : "]}"
        var events: [String] = []
        for piece in AnswerSeed.split(text, into: seed.chunks) {
            events.append(
                prefix + "{\"text\":\(JSONText.quoted(piece)),\"index\":0,\"logprobs\":null,"
                    + "\"finish_reason\":null}" + suffix
            )
        }
        events.append(prefix + "{\"text\":\"\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}" + suffix)
        if seed.includeUsageInStream {
            events.append(prefix + "],\"usage\":\(seed.usageJSON(completionTokens: words))}")
        }
        events.append("[DONE]")
        return .events(data: events)
    }
}
