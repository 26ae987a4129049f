import Foundation

/// Why a stored answer could not be converted to the other shape (the caller treats it as a miss).
public struct ShapeConversionError: Error, Equatable, CustomStringConvertible {
    public let detail: String
    public var description: String { "cannot convert cached answer: \(detail)" }
}

/// Streamed entry → the `chat.completion` (or `text_completion`) document a non-streamed request
/// would have received: deltas concatenated per choice index, `tool_calls` assembled from indexed
/// fragments (id/type/name from the first fragment, `arguments` concatenated), `finish_reason`,
/// `logprobs: null`, `usage` from the usage chunk. Runs only on cross-shape hits.
public enum StreamAssembler {
    public static func assemble(events: [[UInt8]]) throws(ShapeConversionError) -> [UInt8] {
        var id: Any = NSNull(), created: Any = 0, model: Any = NSNull()
        var fingerprint: Any?, usage: Any?
        var textCompletion = false
        var choices: [Int: ChoiceBuilder] = [:]
        for event in events {
            guard let chunk = (try? JSONSerialization.jsonObject(with: Data(event))) as? [String: Any] else {
                throw ShapeConversionError(detail: "stream event is not a JSON object")
            }
            if let value = chunk["id"] { id = value }
            if let value = chunk["created"] { created = value }
            if let value = chunk["model"] { model = value }
            if let value = chunk["system_fingerprint"], !(value is NSNull) { fingerprint = value }
            if let value = chunk["usage"], !(value is NSNull) { usage = value }
            if (chunk["object"] as? String) == "text_completion" { textCompletion = true }
            for case let choice as [String: Any] in chunk["choices"] as? [Any] ?? [] {
                let index = (choice["index"] as? Int) ?? 0
                choices[index, default: ChoiceBuilder()].add(choice)
            }
        }
        var document: [String: Any] = [
            "id": id, "object": textCompletion ? "text_completion" : "chat.completion", "created": created, "model": model,
            "choices": choices.sorted { $0.key < $1.key }.map { $0.value.build(index: $0.key, text: textCompletion) },
        ]
        if let fingerprint { document["system_fingerprint"] = fingerprint }
        if let usage { document["usage"] = usage }
        guard let data = try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            throw ShapeConversionError(detail: "assembled document is not serializable")
        }
        return Array(data)
    }

    private struct ToolCallBuilder {
        var id: Any = NSNull(), type: Any = "function", name: Any = NSNull()
        var arguments = ""
        var seen = false
    }

    private struct ChoiceBuilder {
        var role: Any = "assistant"
        var content: String?
        var reasoning: String?
        var refusal: String?
        var text = ""
        var toolCalls: [Int: ToolCallBuilder] = [:]
        var finishReason: Any = NSNull()
        var logprobs: Any = NSNull()

        mutating func add(_ choice: [String: Any]) {
            if let reason = choice["finish_reason"], !(reason is NSNull) { finishReason = reason }
            if let text = choice["text"] as? String { self.text += text }
            guard let delta = choice["delta"] as? [String: Any] else { return }
            if let value = delta["role"] as? String { role = value }
            if let value = delta["content"] as? String { content = (content ?? "") + value }
            if let value = delta["reasoning_content"] as? String { reasoning = (reasoning ?? "") + value }
            if let value = delta["refusal"] as? String { refusal = (refusal ?? "") + value }
            for case let fragment as [String: Any] in delta["tool_calls"] as? [Any] ?? [] {
                let index = (fragment["index"] as? Int) ?? 0
                var call = toolCalls[index] ?? ToolCallBuilder()
                if !call.seen {
                    call.seen = true
                    if let value = fragment["id"] { call.id = value }
                    if let value = fragment["type"] { call.type = value }
                }
                if let function = fragment["function"] as? [String: Any] {
                    if let name = function["name"], call.name is NSNull { call.name = name }
                    if let arguments = function["arguments"] as? String { call.arguments += arguments }
                }
                toolCalls[index] = call
            }
        }

        func build(index: Int, text isText: Bool) -> [String: Any] {
            if isText {
                return ["index": index, "text": text, "logprobs": logprobs, "finish_reason": finishReason]
            }
            var message: [String: Any] = ["role": role, "content": content.map { $0 as Any } ?? NSNull(), "refusal": refusal.map { $0 as Any } ?? NSNull()]
            if let reasoning { message["reasoning_content"] = reasoning }
            if !toolCalls.isEmpty {
                message["tool_calls"] = toolCalls.sorted { $0.key < $1.key }.map { _, call -> [String: Any] in
                    ["id": call.id, "type": call.type, "function": ["name": call.name, "arguments": call.arguments]]
                }
            }
            return ["index": index, "message": message, "logprobs": logprobs, "finish_reason": finishReason]
        }
    }
}
