import Foundation

/// JSON entry (`chat.completion` or `text_completion`) → the chunk events a live stream would
/// have sent: per choice a role chunk (`role` + empty `content`), a content chunk, a
/// `reasoning_content` chunk (DeepSeek) and one chunk per tool call when present, then a finish
/// chunk (empty delta + `finish_reason`); a usage chunk (`choices: []`) when the request asked for
/// `stream_options.include_usage`. `[DONE]` is not among the returned payloads:
/// `SSEEncoder.encodeStream` appends it. Runs only on cross-shape hits.
public enum StreamSynthesizer {
    public static func synthesize(json: [UInt8], includeUsage: Bool) throws(ShapeConversionError) -> [[UInt8]] {
        guard let document = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else {
            throw ShapeConversionError(detail: "cached JSON body is not an object")
        }
        let isText = (document["object"] as? String) == "text_completion"
        var base: [String: Any] = [
            "id": document["id"] ?? NSNull(), "created": document["created"] ?? 0, "model": document["model"] ?? NSNull(),
            "object": isText ? "text_completion" : "chat.completion.chunk",
        ]
        if let fingerprint = document["system_fingerprint"] { base["system_fingerprint"] = fingerprint }
        if includeUsage { base["usage"] = NSNull() }

        var chunks: [[String: Any]] = []
        func chunk(_ choice: [String: Any]) -> [String: Any] {
            var chunk = base
            chunk["choices"] = [choice]
            return chunk
        }
        let choices = (document["choices"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }
        for choice in choices {
            let index = choice["index"] ?? 0
            if isText {
                chunks.append(chunk(["index": index, "text": choice["text"] ?? "", "logprobs": NSNull(), "finish_reason": NSNull()]))
                chunks.append(chunk(["index": index, "text": "", "logprobs": choice["logprobs"] ?? NSNull(), "finish_reason": choice["finish_reason"] ?? NSNull()]))
                continue
            }
            let message = choice["message"] as? [String: Any] ?? [:]
            func delta(_ delta: [String: Any]) -> [String: Any] {
                ["index": index, "delta": delta, "logprobs": NSNull(), "finish_reason": NSNull()]
            }
            // OpenAI's first chunk: role with empty content, or null content for a tool-call-only answer.
            let initialContent: Any = message["content"] is String ? "" : NSNull()
            chunks.append(chunk(delta(["role": message["role"] ?? "assistant", "content": initialContent])))
            if let reasoning = message["reasoning_content"] as? String, !reasoning.isEmpty {
                chunks.append(chunk(delta(["reasoning_content": reasoning])))
            }
            if let content = message["content"] as? String, !content.isEmpty {
                chunks.append(chunk(delta(["content": content])))
            }
            if let refusal = message["refusal"] as? String, !refusal.isEmpty {
                chunks.append(chunk(delta(["refusal": refusal])))
            }
            for (position, item) in (message["tool_calls"] as? [Any] ?? []).enumerated() {
                guard let call = item as? [String: Any] else { continue }
                let function = call["function"] as? [String: Any] ?? [:]
                chunks.append(chunk(delta(["tool_calls": [[
                    "index": position, "id": call["id"] ?? NSNull(), "type": call["type"] ?? "function",
                    "function": ["name": function["name"] ?? NSNull(), "arguments": function["arguments"] ?? ""],
                ] as [String: Any]]])))
            }
            chunks.append(chunk(["index": index, "delta": [String: Any](), "logprobs": choice["logprobs"] ?? NSNull(),
                                 "finish_reason": choice["finish_reason"] ?? NSNull()]))
        }
        if includeUsage, let usage = document["usage"], !(usage is NSNull) {
            var usageChunk = base
            usageChunk["choices"] = [Any]()
            usageChunk["usage"] = usage
            chunks.append(usageChunk)
        }
        var out: [[UInt8]] = []
        for chunk in chunks {
            guard let data = try? JSONSerialization.data(withJSONObject: chunk, options: [.sortedKeys, .withoutEscapingSlashes]) else {
                throw ShapeConversionError(detail: "synthesized chunk is not serializable")
            }
            out.append(Array(data))
        }
        return out
    }
}
