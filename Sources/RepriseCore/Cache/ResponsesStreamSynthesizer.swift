import Foundation

/// A stored Responses API `response` object (status `completed` or `incomplete`) → the event
/// data a live stream would have sent, in the order the API sends them and
/// `client.responses.stream(...)` / `create(stream=True)` accept:
/// `response.created` and `response.in_progress` (the response with `status: "in_progress"`,
/// `output: []`, `usage: null`), then per output item (`output_index`):
/// - `message`: `response.output_item.added` (status `in_progress`, no content), per content
///   part (`content_index`) `response.content_part.added` (empty), the whole text in one
///   `response.output_text.delta`, one `response.output_text.annotation.added` per annotation,
///   `response.output_text.done` (refusals: `response.refusal.delta` / `.done`), then
///   `response.content_part.done` with the stored part;
/// - `function_call`: `response.output_item.added` (arguments `""`),
///   `response.function_call_arguments.delta` and `.done`;
/// - any other item (reasoning, web search, ...): `response.output_item.added` with the item;
/// each closed by `response.output_item.done` with the stored item; finally
/// `response.completed` (or `response.incomplete`) carrying the stored response as stored.
/// `sequence_number` counts from 0 without gaps, as the API's do. Runs only on cross-shape hits.
public enum ResponsesStreamSynthesizer {
    public static func synthesize(json: [UInt8]) throws(ShapeConversionError) -> [[UInt8]] {
        guard let document = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else {
            throw ShapeConversionError(detail: "cached JSON body is not an object")
        }
        guard (document["object"] as? String) == "response" else {
            throw ShapeConversionError(detail: "cached JSON body is not a response object")
        }
        let terminalType: String
        switch document["status"] as? String {
        case "completed": terminalType = "response.completed"
        case "incomplete": terminalType = "response.incomplete"
        default: throw ShapeConversionError(detail: "cached response is neither completed nor incomplete")
        }

        var stream = EventSequence()
        var inProgress = document
        inProgress["status"] = "in_progress"
        inProgress["output"] = [Any]()
        inProgress["usage"] = NSNull()
        for field in ["incomplete_details", "completed_at"] where document[field] != nil { inProgress[field] = NSNull() }
        try stream.append(["type": "response.created", "response": inProgress])
        try stream.append(["type": "response.in_progress", "response": inProgress])

        for (outputIndex, element) in (document["output"] as? [Any] ?? []).enumerated() {
            guard let item = element as? [String: Any] else { throw ShapeConversionError(detail: "output item is not an object") }
            let itemID = item["id"] ?? ""
            var added = item
            switch item["type"] as? String {
            case "message":
                added["status"] = "in_progress"
                added["content"] = [Any]()
                try stream.append(["type": "response.output_item.added", "output_index": outputIndex, "item": added])
                for (contentIndex, partElement) in (item["content"] as? [Any] ?? []).enumerated() {
                    guard let part = partElement as? [String: Any] else { throw ShapeConversionError(detail: "content part is not an object") }
                    let position: [String: Any] = ["item_id": itemID, "output_index": outputIndex, "content_index": contentIndex]
                    try appendPart(part, at: position, to: &stream)
                }
            case "function_call":
                added["status"] = "in_progress"
                added["arguments"] = ""
                try stream.append(["type": "response.output_item.added", "output_index": outputIndex, "item": added])
                let arguments = item["arguments"] as? String ?? ""
                try stream.append(["type": "response.function_call_arguments.delta", "item_id": itemID, "output_index": outputIndex,
                                   "delta": arguments])
                try stream.append(["type": "response.function_call_arguments.done", "item_id": itemID, "output_index": outputIndex,
                                   "arguments": arguments])
            default:
                try stream.append(["type": "response.output_item.added", "output_index": outputIndex, "item": item])
            }
            try stream.append(["type": "response.output_item.done", "output_index": outputIndex, "item": item])
        }
        try stream.appendTerminal(type: terminalType, response: json, document: document)
        return stream.events
    }

    /// One content part of a message: added (empty), its text or refusal in one delta, done.
    private static func appendPart(_ part: [String: Any], at position: [String: Any], to stream: inout EventSequence) throws(ShapeConversionError) {
        func event(_ type: String, _ fields: [String: Any]) -> [String: Any] {
            position.merging(fields) { _, new in new }.merging(["type": type]) { _, new in new }
        }
        switch part["type"] as? String {
        case "output_text":
            var empty: [String: Any] = ["type": "output_text", "text": "", "annotations": [Any]()]
            if part["logprobs"] != nil { empty["logprobs"] = [Any]() }
            try stream.append(event("response.content_part.added", ["part": empty]))
            let text = part["text"] as? String ?? ""
            let logprobs = part["logprobs"] as? [Any] ?? []
            try stream.append(event("response.output_text.delta", ["delta": text, "logprobs": logprobs]))
            for (annotationIndex, annotation) in (part["annotations"] as? [Any] ?? []).enumerated() {
                try stream.append(event("response.output_text.annotation.added", ["annotation_index": annotationIndex, "annotation": annotation]))
            }
            try stream.append(event("response.output_text.done", ["text": text, "logprobs": logprobs]))
        case "refusal":
            try stream.append(event("response.content_part.added", ["part": ["type": "refusal", "refusal": ""]]))
            let refusal = part["refusal"] as? String ?? ""
            try stream.append(event("response.refusal.delta", ["delta": refusal]))
            try stream.append(event("response.refusal.done", ["refusal": refusal]))
        default:
            try stream.append(event("response.content_part.added", ["part": part]))
        }
        try stream.append(event("response.content_part.done", ["part": part]))
    }

    /// The events written so far, numbered as they are appended.
    private struct EventSequence {
        var events: [[UInt8]] = []

        mutating func append(_ event: [String: Any]) throws(ShapeConversionError) {
            var numbered = event
            numbered["sequence_number"] = events.count
            guard let data = try? JSONSerialization.data(withJSONObject: numbered, options: [.sortedKeys, .withoutEscapingSlashes]) else {
                throw ShapeConversionError(detail: "synthesized event is not serializable")
            }
            events.append(Array(data))
        }

        /// The terminal event carries the stored response byte for byte (what the non-streamed
        /// request got), minus line breaks and surrounding blanks: outside strings they are
        /// whitespace (inside, JSON escapes them), and a data line must not contain one. Bytes
        /// that are not a plain UTF-8 object (a BOM, UTF-16) are re-serialized instead.
        mutating func appendTerminal(type: String, response: [UInt8], document: [String: Any]) throws(ShapeConversionError) {
            func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
            var compact = response.filter { $0 != 0x0A && $0 != 0x0D }[...]
            while let first = compact.first, isBlank(first) { compact.removeFirst() }
            while let last = compact.last, isBlank(last) { compact.removeLast() }
            guard compact.first == UInt8(ascii: "{"), compact.last == UInt8(ascii: "}"), !compact.contains(0) else {
                return try append(["type": type, "response": document])
            }
            var event = Array(#"{"type":""#.utf8)
            event += type.utf8
            event += #"","sequence_number":"#.utf8
            event += String(events.count).utf8
            event += #","response":"#.utf8
            event += compact
            event.append(UInt8(ascii: "}"))
            events.append(event)
        }
    }
}
