import Foundation
@testable import RepriseCore

/// A Responses API answer as the API sends it (shapes from the API reference and the SDK's
/// `types/responses`): a reasoning item, a message whose text has multi-byte characters and an
/// annotation, and a function call, streamed in the API's event order with its field order,
/// `obfuscation` padding and `sequence_number`s from 0.
enum ResponsesFixture {
    static let text = "Grüße aus Paris 🌍 — «voilà»"
    static let arguments = #"{"city":"Paris"}"#

    static let reasoningItem = #"{"id":"rs_68af01","type":"reasoning","summary":[]}"#
    static let messageItem = #"{"id":"msg_68af02","type":"message","status":"completed","content":[{"type":"output_text","annotations":[{"type":"url_citation","end_index":15,"start_index":0,"title":"Paris","url":"https://example.org/paris"}],"logprobs":[],"text":"Grüße aus Paris 🌍 — «voilà»"}],"role":"assistant"}"#
    static let functionCallItem = #"{"id":"fc_68af03","type":"function_call","status":"completed","arguments":"{\"city\":\"Paris\"}","call_id":"call_Xy12","name":"get_weather"}"#
    static let usage = #"{"input_tokens":31,"input_tokens_details":{"cached_tokens":0},"output_tokens":47,"output_tokens_details":{"reasoning_tokens":12},"total_tokens":78}"#

    /// The `response` object with `status`, `output` and `usage` filled in.
    static func response(status: String, output: [String], usage: String = "null", incompleteDetails: String = "null") -> String {
        #"{"id":"resp_68af00","object":"response","created_at":1756300000,"status":""# + status
            + #"","background":false,"error":null,"incomplete_details":"# + incompleteDetails
            + #","instructions":null,"max_output_tokens":null,"max_tool_calls":null,"model":"gpt-5-mini-2025-08-07","output":["#
            + output.joined(separator: ",")
            + #"],"parallel_tool_calls":true,"previous_response_id":null,"prompt_cache_key":null,"reasoning":{"effort":"minimal","summary":null},"safety_identifier":null,"service_tier":"default","store":true,"temperature":1.0,"text":{"format":{"type":"text"},"verbosity":"medium"},"tool_choice":"auto","tools":[{"type":"function","description":"Current weather","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true}],"top_logprobs":0,"top_p":1.0,"truncation":"disabled","usage":"#
            + usage + #","user":null,"metadata":{}}"#
    }

    static let completedResponse = response(status: "completed", output: [reasoningItem, messageItem, functionCallItem], usage: usage)

    /// The event data of the stream, in order; the last one is `terminal`.
    static func streamEvents(terminal: String = "response.completed", terminalResponse: String = completedResponse) -> [String] {
        let inProgress = response(status: "in_progress", output: [])
        return [
            #"{"type":"response.created","sequence_number":0,"response":"# + inProgress + "}",
            #"{"type":"response.in_progress","sequence_number":1,"response":"# + inProgress + "}",
            #"{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"rs_68af01","type":"reasoning","summary":[]}}"#,
            #"{"type":"response.output_item.done","sequence_number":3,"output_index":0,"item":"# + reasoningItem + "}",
            #"{"type":"response.output_item.added","sequence_number":4,"output_index":1,"item":{"id":"msg_68af02","type":"message","status":"in_progress","content":[],"role":"assistant"}}"#,
            #"{"type":"response.content_part.added","sequence_number":5,"item_id":"msg_68af02","output_index":1,"content_index":0,"part":{"type":"output_text","annotations":[],"logprobs":[],"text":""}}"#,
            #"{"type":"response.output_text.delta","sequence_number":6,"item_id":"msg_68af02","output_index":1,"content_index":0,"delta":"Grüße","logprobs":[],"obfuscation":"u2Xq0a1"}"#,
            #"{"type":"response.output_text.delta","sequence_number":7,"item_id":"msg_68af02","output_index":1,"content_index":0,"delta":" aus Paris 🌍","logprobs":[],"obfuscation":"k"}"#,
            #"{"type":"response.output_text.delta","sequence_number":8,"item_id":"msg_68af02","output_index":1,"content_index":0,"delta":" — «voilà»","logprobs":[],"obfuscation":"Zq"}"#,
            #"{"type":"response.output_text.annotation.added","sequence_number":9,"item_id":"msg_68af02","output_index":1,"content_index":0,"annotation_index":0,"annotation":{"type":"url_citation","end_index":15,"start_index":0,"title":"Paris","url":"https://example.org/paris"}}"#,
            #"{"type":"response.output_text.done","sequence_number":10,"item_id":"msg_68af02","output_index":1,"content_index":0,"text":"Grüße aus Paris 🌍 — «voilà»","logprobs":[]}"#,
            #"{"type":"response.content_part.done","sequence_number":11,"item_id":"msg_68af02","output_index":1,"content_index":0,"part":{"type":"output_text","annotations":[{"type":"url_citation","end_index":15,"start_index":0,"title":"Paris","url":"https://example.org/paris"}],"logprobs":[],"text":"Grüße aus Paris 🌍 — «voilà»"}}"#,
            #"{"type":"response.output_item.done","sequence_number":12,"output_index":1,"item":"# + messageItem + "}",
            #"{"type":"response.output_item.added","sequence_number":13,"output_index":2,"item":{"id":"fc_68af03","type":"function_call","status":"in_progress","arguments":"","call_id":"call_Xy12","name":"get_weather"}}"#,
            #"{"type":"response.function_call_arguments.delta","sequence_number":14,"item_id":"fc_68af03","output_index":2,"delta":"{\"city\":","obfuscation":"9f"}"#,
            #"{"type":"response.function_call_arguments.delta","sequence_number":15,"item_id":"fc_68af03","output_index":2,"delta":"\"Paris\"}","obfuscation":"a"}"#,
            #"{"type":"response.function_call_arguments.done","sequence_number":16,"item_id":"fc_68af03","output_index":2,"arguments":"{\"city\":\"Paris\"}"}"#,
            #"{"type":"response.output_item.done","sequence_number":17,"output_index":2,"item":"# + functionCallItem + "}",
            #"{"type":""# + terminal + #"","sequence_number":18,"response":"# + terminalResponse + "}",
        ]
    }

    /// The stream's bytes as the API writes them: `event: <type>` before each data line, a
    /// keep-alive comment first, no `[DONE]`.
    static func sse(_ events: [String]) -> [UInt8] {
        var text = ": keep-alive\n\n"
        for event in events {
            let type = (jsonObject(Array(event.utf8))?["type"] as? String) ?? "message"
            text += "event: \(type)\ndata: \(event)\n\n"
        }
        return Array(text.utf8)
    }

    static func bytes(_ events: [String]) -> [[UInt8]] { events.map { Array($0.utf8) } }
}
