import Foundation
import Testing

/// An upstream answer the mock is told to break (`X-Mock-*` faults): the fault headers, whether
/// the client asked for a stream, and whether the answer may be stored (a well-formed answer
/// with absurd token counts may; a broken one may not).
struct MalformedUpstreamAnswer: Sendable, CustomTestStringConvertible {
    let name: String
    let faultHeaders: [(String, String)]
    let stream: Bool
    let mayBeStored: Bool

    var testDescription: String { name }

    static func usage(_ name: String, _ json: String, stream: Bool = false) -> Self {
        Self(name: "usage " + name + (stream ? " (stream)" : ""), faultHeaders: [("X-Mock-Usage", json)], stream: stream, mayBeStored: true)
    }

    static func raw(_ name: String, _ response: String, stream: Bool = false) -> Self {
        raw(name, Array(response.utf8), stream: stream)
    }

    static func raw(_ name: String, _ response: [UInt8], stream: Bool = false) -> Self {
        Self(name: name, faultHeaders: [("X-Mock-Raw-Response", Data(response).base64EncodedString())], stream: stream, mayBeStored: false)
    }

    static let document = #"{"id":"chatcmpl-raw","object":"chat.completion","created":1700000000,"model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"raw"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#
    static let event = #"data: {"id":"chatcmpl-raw","object":"chat.completion.chunk","created":1700000000,"model":"deepseek-chat","choices":[{"index":0,"delta":{"content":"raw"},"finish_reason":null}]}"#

    static func head(_ lines: String) -> String { "HTTP/1.1 200 OK\r\n" + lines + "\r\n" }

    static let all: [Self] = [
        usage("of Int64.max", #"{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807,"total_tokens":9223372036854775807}"#),
        usage("whose sum overflows (no total)", #"{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}"#),
        usage("whose sum overflows (no total)", #"{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}"#, stream: true),
        usage("of 1e400", #"{"prompt_tokens":1e400,"completion_tokens":1e400,"total_tokens":1e400}"#),
        usage("of -1", #"{"prompt_tokens":-1,"completion_tokens":-1,"total_tokens":-1}"#),
        usage("of 30 digits", #"{"prompt_tokens":999999999999999999999999999999,"completion_tokens":1}"#),
        usage("below Int64.min", #"{"prompt_tokens":-9223372036854775808,"completion_tokens":-9223372036854775808}"#, stream: true),
        usage("that is a string", #""lots""#),
        Self(name: "obs-fold in a header value", faultHeaders: [("X-Mock-Header-CRLF", "fold")], stream: false, mayBeStored: false),
        Self(name: "bare CR in a header value", faultHeaders: [("X-Mock-Header-CRLF", "cr")], stream: false, mayBeStored: false),
        Self(name: "bare CR in a header value (stream)", faultHeaders: [("X-Mock-Header-CRLF", "cr")], stream: true, mayBeStored: false),
        // A lenient parser reads two clean headers here: storing them is harmless.
        Self(name: "bare LF in a header value", faultHeaders: [("X-Mock-Header-CRLF", "lf")], stream: false, mayBeStored: true),
        Self(name: "stream cut inside a chunk", faultHeaders: [("X-Mock-Truncate-Chunk", "1")], stream: true, mayBeStored: false),
        Self(name: "200 with an error document", faultHeaders: [("X-Mock-Error-Body-200", "1")], stream: false, mayBeStored: false),
        Self(name: "200 with an error document (stream)", faultHeaders: [("X-Mock-Error-Body-200", "1")], stream: true, mayBeStored: false),
        raw("non-JSON 200", head("content-type: application/json\r\ncontent-length: 11\r\n") + "hello world"),
        raw("Content-Length longer than the body", head("content-type: application/json\r\ncontent-length: 5000\r\n") + document),
        raw("Content-Length shorter than the body", head("content-type: application/json\r\ncontent-length: 20\r\n") + document),
        raw("negative Content-Length", head("content-type: application/json\r\ncontent-length: -1\r\n") + document),
        raw("Content-Length of 25 digits", head("content-type: application/json\r\ncontent-length: 9999999999999999999999999\r\n") + document),
        raw("Content-Length and chunked together", head("content-type: application/json\r\ncontent-length: 10\r\ntransfer-encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n"),
        raw("invalid chunk size", head("content-type: application/json\r\ntransfer-encoding: chunked\r\n") + "zz\r\n\(document)\r\n0\r\n\r\n"),
        raw("chunk size of 18 hex digits", head("content-type: text/event-stream\r\ntransfer-encoding: chunked\r\n") + "FFFFFFFFFFFFFFFFFF\r\n\(event)\n\n\r\n0\r\n\r\n", stream: true),
        raw(
            "SSE frame cut before its end, chunking complete",
            head("content-type: text/event-stream\r\ntransfer-encoding: chunked\r\n")
                + String(event.utf8.count + 2, radix: 16) + "\r\n\(event)\n\n\r\n" + "c\r\ndata: {\"id\":\r\n0\r\n\r\n",
            stream: true
        ),
        raw("garbage status line", "HTTP/1.1 abc Nope\r\ncontent-length: 2\r\n\r\n{}"),
        raw("NUL in a header value", Array(head("content-type: application/json\r\ncontent-length: \(document.utf8.count)\r\nx-bad: a").utf8) + [0] + Array("b\r\n\r\n\(document)".utf8)),
        Self(name: "header of 200 KiB", faultHeaders: [("X-Mock-Header-Bytes", "204800")], stream: false, mayBeStored: false),
        raw("nothing at all", ""),
    ]
}
