import Foundation

/// Recorded Responses API stream → the `response` object a non-streamed request would have
/// received: the `response` of the terminal event (`response.completed`, or
/// `response.incomplete`), which the API sends whole — its bytes are returned as recorded.
/// When that response has no `output` (the SDK's stream helper tolerates it and rebuilds it the
/// same way), the output is rebuilt from the `response.output_item.done` items in
/// `output_index` order, if there are any. Runs only on cross-shape hits.
public enum ResponsesStreamAssembler {
    public static func assemble(events: [[UInt8]]) throws(ShapeConversionError) -> [UInt8] {
        // The recorder stores nothing after the terminal event: it is the last one.
        guard let terminal = events.last else { throw ShapeConversionError(detail: "stream has no events") }
        let fields = ResponseFields(json: terminal)
        guard fields.eventType == "response.completed" || fields.eventType == "response.incomplete" else {
            throw ShapeConversionError(detail: "stream does not end with response.completed or response.incomplete")
        }
        let scanner = JSONFieldScanner(bytes: terminal)
        guard let start = fields.responseStart, let end = scanner.valueEnd(start),
              let members = scanner.members(ofObjectAt: start) else {
            throw ShapeConversionError(detail: "terminal event has no response object")
        }
        let response = Array(terminal[start ..< end])
        if let output = scanner.member("output", in: members), !scanner.isNull(output) { return response }
        let doneItems = events.filter { ResponseFields(json: $0).eventType == "response.output_item.done" }
        // Nothing to rebuild from: the response as it was sent.
        guard !doneItems.isEmpty else { return response }
        return try withOutputRebuilt(response: response, doneItems: doneItems)
    }

    private static func withOutputRebuilt(response: [UInt8], doneItems: [[UInt8]]) throws(ShapeConversionError) -> [UInt8] {
        guard var document = (try? JSONSerialization.jsonObject(with: Data(response))) as? [String: Any] else {
            throw ShapeConversionError(detail: "terminal response is not a JSON object")
        }
        var items: [Int: Any] = [:]
        for event in doneItems {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(event))) as? [String: Any],
                  let index = object["output_index"] as? Int, let item = object["item"] else {
                throw ShapeConversionError(detail: "response.output_item.done without output_index or item")
            }
            items[index] = item
        }
        document["output"] = items.sorted { $0.key < $1.key }.map(\.value)
        guard let data = try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            throw ShapeConversionError(detail: "assembled response is not serializable")
        }
        return Array(data)
    }
}
