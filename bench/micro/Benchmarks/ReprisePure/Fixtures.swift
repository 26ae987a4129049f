import RepriseCore

/// Deterministic inputs for the micro-benchmarks: shaped like real OpenAI-compatible traffic,
/// generated rather than stored so the repository carries no large fixture files.
enum Fixtures {
    /// A chat-completions request body of at least `minimumBytes` bytes: a system prompt, then
    /// alternating user/assistant turns (with escapes, non-ASCII text and numbers, as real
    /// bodies have), a tool definition and the usual sampling parameters.
    static func chatBody(minimumBytes: Int) -> [UInt8] {
        var generator = SplitMix64(seed: UInt64(minimumBytes))
        var messages: [String] = [
            #"{"role":"system","content":"You are a careful assistant for a logistics company.\nAnswer in the user's language; quote \"part numbers\" exactly and prefer metric units."}"#,
        ]
        var turn = 0
        func bodyText() -> String {
            "{\"model\":\"gpt-4o-mini\",\"messages\":[" + messages.joined(separator: ",") + "],"
                + #""tools":[{"type":"function","function":{"name":"lookup_shipment","description":"Find a shipment by its tracking number","parameters":{"type":"object","properties":{"tracking_number":{"type":"string"},"include_history":{"type":"boolean"}},"required":["tracking_number"]}}}],"#
                + #""temperature":0.2,"top_p":1.0,"max_tokens":1024,"n":1,"stream":true,"stream_options":{"include_usage":true},"user":"user-4821"}"#
        }
        while bodyText().utf8.count < minimumBytes {
            let number = generator.next() % 1_000_000
            if turn % 2 == 0 {
                messages.append(#"{"role":"user","content":"Where is shipment \"TRK-"# + String(number)
                    + #"\"? It left Zürich on 2024-11-0"# + String(turn % 9 + 1)
                    + #" with 12.5 kg of spare parts (part no. A-"# + String(number % 997)
                    + #"/B). The customer asks: ¿cuándo llega? — please check\tcustoms too."}"#)
            } else {
                messages.append(#"{"role":"assistant","content":"Shipment TRK-"# + String(number)
                    + #" cleared customs in Basel and is now in transit to the Lyon hub.\nExpected delivery: 2 business days. Weight on record: 12.50 kg; temperature log nominal (4.0 °C)."}"#)
            }
            turn += 1
        }
        return Array(bodyText().utf8)
    }

    static let scope = CacheScope(namespace: "3f1c9a0b7d2e4f6a8b9c0d1e2f3a4b5c", route: "openai", variant: "default",
                                  method: "POST", target: "/v1/chat/completions")

    /// A typical non-streamed answer (~1 KB of JSON).
    static let jsonEntry: CacheEntry = {
        let content = "Shipment TRK-104233 cleared customs in Basel on 2024-11-05 and is now in transit to the Lyon hub. "
            + "Expected delivery is in two business days; the temperature log is nominal (4.0 °C) and the declared weight "
            + "of 12.50 kg matches the scale at the hub. I can notify the customer when it is out for delivery."
        let json = #"{"id":"chatcmpl-AXk2b9QzP0wYt7LmNcR4sVd1eF8gH","object":"chat.completion","created":1732500000,"#
            + #""model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":""#
            + content + #"","refusal":null},"logprobs":null,"finish_reason":"stop"}],"#
            + #""usage":{"prompt_tokens":1184,"completion_tokens":74,"total_tokens":1258,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"#
            + #""system_fingerprint":"fp_0ba0d124f1"}"#
        return CacheEntry(status: 200, headers: [CacheEntry.Header(name: "content-type", value: "application/json")],
                          createdAtMs: 1_732_500_000_000, ttlMs: 86_400_000, model: "gpt-4o-mini-2024-07-18",
                          usage: CacheEntry.Usage(promptTokens: 1184, completionTokens: 74, totalTokens: 1258),
                          body: .json(Array(json.utf8)))
    }()

    /// The `data` payloads of a streamed answer: a role chunk, `count - 2` content chunks, a
    /// finish chunk and a usage chunk (as with `stream_options.include_usage`).
    static func streamEvents(count: Int) -> [[UInt8]] {
        let prefix = #"{"id":"chatcmpl-AXk2b9QzP0wYt7LmNcR4sVd1eF8gH","object":"chat.completion.chunk","created":1732500000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":["#
        let words = [" shipment", " cleared", " customs", " in", " Basel", " and", " is", " now", " in", " transit", " to", " the", " Lyon", " hub", ".", " Expected", " delivery", ":", " two", " days", " (", "4", ".0", " °C", ")"]
        var events: [[UInt8]] = []
        events.append(Array((prefix + #"{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#).utf8))
        for index in 0 ..< max(0, count - 3) {
            events.append(Array((prefix + #"{"index":0,"delta":{"content":""# + words[index % words.count]
                + #""},"logprobs":null,"finish_reason":null}],"usage":null}"#).utf8))
        }
        events.append(Array((prefix + #"{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#).utf8))
        events.append(Array((prefix + #"],"usage":{"prompt_tokens":1184,"completion_tokens":197,"total_tokens":1381}}"#).utf8))
        return events
    }

    static func streamEntry(eventCount: Int) -> CacheEntry {
        CacheEntry(status: 200, headers: [CacheEntry.Header(name: "content-type", value: "text/event-stream; charset=utf-8")],
                   createdAtMs: 1_732_500_000_000, ttlMs: 86_400_000, model: "gpt-4o-mini-2024-07-18",
                   usage: CacheEntry.Usage(promptTokens: 1184, completionTokens: 197, totalTokens: 1381),
                   body: .events(streamEvents(count: eventCount)))
    }

    /// `count` distinct L1 keys shaped like real ones (`reprise:v1:<namespace>:<64 hex>`).
    static func cacheKeys(count: Int, seed: UInt64) -> [String] {
        var generator = SplitMix64(seed: seed)
        return (0 ..< count).map { _ in
            var digest = ""
            for _ in 0 ..< 4 {
                let hex = String(generator.next(), radix: 16)
                digest += String(repeating: "0", count: 16 - hex.count) + hex
            }
            return CacheKey(namespace: scope.namespace, digest: digest).redisKey
        }
    }

    /// `values` in an order fixed by `seed` (Fisher–Yates), so lookups do not walk memory in
    /// insertion order.
    static func shuffled<T>(_ values: [T], seed: UInt64) -> [T] {
        var generator = SplitMix64(seed: seed)
        var result = values
        for index in stride(from: result.count - 1, to: 0, by: -1) {
            result.swapAt(index, Int(generator.next() % UInt64(index + 1)))
        }
        return result
    }
}

/// A tiny deterministic generator (SplitMix64): the same fixtures on every run and machine.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
