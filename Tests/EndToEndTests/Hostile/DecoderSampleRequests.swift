/// Requests for the decoder differential test: what clients send the proxy, one of each
/// framing, several in one stream, an upgrade, and two smuggling attempts both parsers refuse.
enum DecoderSampleRequests {
    typealias R = HostileRequest

    static var all: [(name: String, bytes: [UInt8])] {
        [
            ("chat request with 6 headers", chat),
            ("GET without a body", R.bytes(method: "GET", target: "/v1/models", body: nil, close: false)),
            (
                "chunked body with extensions and trailers",
                R.bytes(lines: [R.line("Transfer-Encoding: chunked")], body: R.chunked(R.sharedBody, size: 7, extension: ";x=1", final: false)
                    + R.line("0\r\nX-Trailer: t\r\nX-Other: o\r\n\r\n"), contentLength: false, close: false)
            ),
            ("three pipelined requests", chat + R.bytes(method: "GET", target: "/healthz", body: nil, close: false) + chat),
            ("HTTP/1.0 keep-alive", R.bytes(version: "HTTP/1.0", lines: [R.line("Connection: keep-alive")], close: false)),
            ("Expect: 100-continue", R.bytes(lines: [R.line("Expect: 100-continue")], close: false)),
            ("empty header value and odd spacing", R.bytes(lines: [R.line("X-Empty:"), R.line("X-Spaced: \t a b \t")], close: false)),
            (
                "upgrade then bytes of another protocol",
                R.bytes(method: "GET", target: "/ws", lines: [R.line("Connection: Upgrade"), R.line("Upgrade: websocket")], body: nil, close: false)
                    + R.line("\u{1}\u{2}not http")
            ),
            // Refused, by each llhttp with its own words: the differential test keeps them alike.
            ("Transfer-Encoding then Content-Length", R.bytes(lines: [R.line("Transfer-Encoding: chunked"), R.line("Content-Length: 5")], body: R.line("0\r\n\r\n"), contentLength: false)),
            ("Content-Length then Transfer-Encoding", R.bytes(lines: [R.line("Content-Length: 5"), R.line("Transfer-Encoding: chunked")], body: R.line("0\r\n\r\n"), contentLength: false)),
            ("request then an incomplete head at the end", chat + R.line("POST /v1/chat/completions HTTP/1.1\r\nHost: x")),
        ]
    }

    /// The proxy's typical request: Host, Content-Type, Content-Length, Authorization,
    /// User-Agent, Accept.
    static let chat = R.bytes(
        lines: [R.line("Authorization: Bearer sk-test-0123456789"), R.line("User-Agent: OpenAI/Python 1.0"), R.line("Accept: application/json")],
        close: false
    )
}
