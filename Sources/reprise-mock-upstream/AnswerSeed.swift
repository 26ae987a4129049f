/// Everything an answer is derived from: the request body (its hash and size), the parsed
/// request and the per-request stream shape. Same inputs, same bytes.
struct AnswerSeed {
    let hash: UInt64
    let bodyByteCount: Int
    let request: JSONValue
    let model: String
    /// Content pieces of a streamed answer (≥ 1).
    let chunks: Int
    /// `X-Mock-Usage`: the `usage` JSON text to answer with instead of the computed one.
    var usageOverride: String?
    /// `Realism.realisticAnswers`: multi-byte characters in texts, DeepSeek's usage fields.
    var realistic = false

    /// `created` is derived from the hash so that repeated calls are byte-identical.
    var created: Int { 1_700_000_000 + Int(hash % 10_000_000) }

    var includeUsageInStream: Bool {
        request["stream_options"]?["include_usage"]?.boolValue ?? false
    }

    /// A reasoning model (`deepseek-reasoner` and any other name containing `reasoner`):
    /// answers carry their reasoning and count its tokens.
    var reasons: Bool { model.contains("reasoner") }

    /// DeepSeek's models report DeepSeek's usage fields (reasoners always, others when realistic).
    var reportsDeepSeekUsage: Bool { model.hasPrefix("deepseek") && (realistic || reasons) }

    /// A rough token count of the request: 4 bytes per token, like OpenAI's rule of thumb.
    var promptTokens: Int { max(1, bodyByteCount / 4) }

    func generator(salt: UInt64) -> SplitMix64 {
        SplitMix64(seed: hash ^ salt)
    }

    /// The hex digits used in ids (24 in `chatcmpl-…`, `call_…`, `req_…`; 48 in the
    /// Responses API's `resp_…`, `msg_…`).
    func idSuffix(salt: UInt64 = 0, digits: Int = 24) -> String {
        var generator = generator(salt: 0x1D5 ^ salt)
        return generator.hex(digits: digits)
    }

    /// A deterministic sentence of 8 to 24 lowercase words, capitalized, ending with a period;
    /// when realistic, at least one word has multi-byte characters.
    func sentence(salt: UInt64 = 0) -> (text: String, words: Int) {
        var generator = generator(salt: 0x5E47 ^ salt)
        let count = 8 + generator.next(below: 17)
        let vocabulary = realistic ? Self.vocabulary + Self.multiByteVocabulary : Self.vocabulary
        var words: [String] = []
        words.reserveCapacity(count)
        for _ in 0..<count {
            words.append(vocabulary[generator.next(below: vocabulary.count)])
        }
        if realistic {
            let word = Self.multiByteVocabulary[generator.next(below: Self.multiByteVocabulary.count)]
            words[generator.next(below: count)] = word
        }
        var text = words.joined(separator: " ")
        text = text.prefix(1).uppercased() + text.dropFirst() + "."
        return (text, count)
    }

    /// Chat and completions usage; `reasoningTokens` (part of `completionTokens`) adds
    /// `completion_tokens_details`, DeepSeek models add DeepSeek's cache fields.
    func usageJSON(completionTokens: Int, reasoningTokens: Int? = nil) -> String {
        if let usageOverride { return usageOverride }
        var json = "{\"prompt_tokens\":\(promptTokens),\"completion_tokens\":\(completionTokens),"
            + "\"total_tokens\":\(promptTokens + completionTokens)"
        if reportsDeepSeekUsage {
            json += ",\"prompt_tokens_details\":{\"cached_tokens\":0}"
        }
        if let reasoningTokens {
            json += ",\"completion_tokens_details\":{\"reasoning_tokens\":\(reasoningTokens)}"
        }
        if reportsDeepSeekUsage {
            json += ",\"prompt_cache_hit_tokens\":0,\"prompt_cache_miss_tokens\":\(promptTokens)"
        }
        return json + "}"
    }

    /// Splits `text` into exactly `pieces` consecutive parts (some empty when the text is
    /// shorter than the piece count), so streamed fragments always reassemble to `text`.
    static func split(_ text: String, into pieces: Int) -> [String] {
        let characters = Array(text)
        let count = max(1, pieces)
        var parts: [String] = []
        parts.reserveCapacity(count)
        for index in 0..<count {
            let start = characters.count * index / count
            let end = characters.count * (index + 1) / count
            parts.append(String(characters[start..<end]))
        }
        return parts
    }

    static let vocabulary = [
        "cache", "reprise", "stream", "token", "model", "answer", "question", "proxy", "upstream",
        "latency", "window", "river", "mountain", "signal", "packet", "socket", "event", "loop",
        "future", "promise", "buffer", "channel", "handler", "request", "response", "header",
        "body", "chunk", "delta", "choice", "usage", "prompt", "completion", "embedding",
        "vector", "deterministic", "replay", "store", "entry", "digest", "namespace", "tenant",
        "route", "variant", "canary", "breaker", "retry", "budget", "jitter", "backoff", "deadline",
        "quiet", "bright", "swift", "calm", "green", "amber", "silver", "north", "south", "early",
        "late", "simple", "steady",
    ]

    /// Words whose UTF-8 takes 2, 3 and 4 bytes per character, for realistic answers.
    static let multiByteVocabulary = ["café", "naïve", "über", "日本語", "キャッシュ", "🚀", "💡", "señal"]
}
