/// The hostile-input table: malformed headers, bodies, framing, sizes and encodings, each with
/// the outcome the specification promises. The proxy under test runs with
/// `HostileProxyBed.yaml` (1 MiB bodies, 16 KiB heads, 2 s request timeout).
enum HostileRequestCatalog {
    typealias Case = HostileRequestCase
    typealias R = HostileRequest

    static let malformed = Case.Expectation.refused(400, code: "bad_request")
    static let ok = Case.Expectation.answered([200])
    /// The upstream judged the body (200 when it could read it, 400 when not).
    static let upstreamJudged = Case.Expectation.answered([200, 400])

    static var all: [Case] {
        headers + bodies + framing + sizes + encodingsAndTargets
    }

    /// Malformed `Cache-Control` and `X-Reprise-Cache-TTL` values are ignored: the request is
    /// served as if they were absent.
    static let headers: [Case] = [
        Case("Cache-Control: =", R.bytes(lines: [R.line("Cache-Control: =")]), ok),
        Case("Cache-Control: no-cache,=", R.bytes(lines: [R.line("Cache-Control: no-cache,=")]), ok),
        Case("Cache-Control: = from tenant A", R.bytes(credential: .tenantA, lines: [R.line("Cache-Control: =")]), ok, credential: .tenantA),
        Case("Cache-Control max-age of 20 digits", R.bytes(lines: [R.line("Cache-Control: max-age=99999999999999999999")]), ok),
        Case("Cache-Control: ,,,", R.bytes(lines: [R.line("Cache-Control: ,,,")]), ok),
        Case("Cache-Control with unbalanced quotes", R.bytes(lines: [R.line(#"Cache-Control: no-cache="x, max-age="5"#)]), ok),
        Case(
            "Cache-Control negative and overflowing max-stale/min-fresh",
            R.bytes(credential: .tenantA, lines: [R.line("Cache-Control: max-stale=-1, min-fresh=-99999999999999999999, max-age=-0")]),
            ok, credential: .tenantA
        ),
        Case("Cache-Control of 4000 commas and equals", R.bytes(lines: [R.line("Cache-Control: " + String(repeating: ",=", count: 2000))]), ok),
        Case("X-Reprise-Cache-TTL: -1", R.bytes(credential: .tenantA, lines: [R.line("X-Reprise-Cache-TTL: -1")]), ok, credential: .tenantA),
        Case("X-Reprise-Cache-TTL: 1e9", R.bytes(lines: [R.line("X-Reprise-Cache-TTL: 1e9")]), ok),
        Case("X-Reprise-Cache-TTL of 30 digits", R.bytes(lines: [R.line("X-Reprise-Cache-TTL: 999999999999999999999999999999")]), ok),
        Case(
            "X-Reprise-Cache-TTL: Int64.max (seconds to milliseconds overflows)",
            R.bytes(credential: .other("Authorization: Bearer sk-hostile-ttl-max"), lines: [R.line("X-Reprise-Cache-TTL: 9223372036854775807")]),
            ok, credential: .other("Authorization: Bearer sk-hostile-ttl-max")
        ),
        Case("X-Reprise-Cache-TTL empty", R.bytes(lines: [R.line("X-Reprise-Cache-TTL:")]), ok),
        Case("X-Reprise-Cache-TTL: +5 and spaces", R.bytes(lines: [R.line("X-Reprise-Cache-TTL:  +5 , 7 ")]), ok),
        Case("NUL in a header value", R.bytes(lines: [R.line("X-Note: a") + [0] + R.line("b")]), malformed),
        Case("bare CR in a header value", R.bytes(lines: [R.line("X-Note: a\rX-Injected: b")]), malformed),
        Case("header name with a space", R.bytes(lines: [R.line("Bad Name: x")]), malformed),
        Case("space before a header's colon", R.bytes(lines: [R.line("X-Padding : x")]), malformed),
        Case("obs-fold continuation line", R.bytes(lines: [R.line("X-Folded: first"), R.line(" second")]), malformed),
        Case(
            "non-UTF-8 bearer token",
            R.bytes(lines: [R.line("Authorization: Bearer sk-") + [0xFF, 0xFE, 0x80]]),
            ok, credential: .other("non-UTF-8")
        ),
        Case("Authorization: Bearer with no token", R.bytes(lines: [R.line("Authorization: Bearer ")]), ok),
    ]

    static let bodies: [Case] = [
        Case("invalid UTF-8 in the body", R.bytes(body: R.chatBody(content: [0xFF, 0xFE, 0xC3, 0x28, 0xED, 0xA0, 0x80])), upstreamJudged),
        Case(
            "100000 nested arrays",
            R.bytes(body: R.chatBody(content: R.line("x"), extraMembers: ",\"n\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))),
            upstreamJudged
        ),
        Case(
            "50000 nested objects",
            R.bytes(body: R.line(String(repeating: #"{"a":"#, count: 50_000) + "1" + String(repeating: "}", count: 50_000))),
            .answered([400])
        ),
        Case(
            "100000 unclosed arrays",
            R.bytes(body: R.line(#"{"model":"deepseek-chat","messages":"# + String(repeating: "[", count: 100_000))),
            .answered([400])
        ),
        Case(
            "huge numbers (1e400, 30 digits, below Int64.min)",
            R.bytes(body: R.chatBody(content: R.line("numbers"), extraMembers: #","temperature":1e400,"max_tokens":999999999999999999999999999999,"seed":-9223372036854775809,"top_p":-0.0e-99999"#)),
            upstreamJudged
        ),
        Case(
            "duplicate keys",
            R.bytes(body: R.line(#"{"model":"other","model":"deepseek-chat","messages":[],"messages":[{"role":"user","content":"hostile shared question"}]}"#)),
            upstreamJudged
        ),
        Case("truncated JSON", R.bytes(body: R.line(#"{"model":"deepseek-chat","messages":[{"role":"us"#)), .answered([400])),
        Case("byte order mark before the JSON", R.bytes(body: [0xEF, 0xBB, 0xBF] + R.sharedBody), upstreamJudged),
        Case("empty body with Content-Length: 0", R.bytes(body: []), .answered([400])),
        Case("JSON string instead of an object", R.bytes(body: R.line(#""hostile shared question""#)), .answered([400])),
        Case("raw NUL and control bytes inside a JSON string", R.bytes(body: R.chatBody(content: [0, 1, 0x1F, 0x7F])), upstreamJudged),
        Case("lone surrogate escapes", R.bytes(body: R.chatBody(content: R.line(#"\ud800\udfff\uDC00\u0000"#))), upstreamJudged),
    ]

    /// The second request hidden in these bodies asks for `/v1/smuggled`: the mock must never
    /// see that path.
    static let smuggled = R.line("GET /v1/smuggled HTTP/1.1\r\nHost: reprise.test\r\n\r\n")

    static let framing: [Case] = [
        Case(
            "Content-Length and Transfer-Encoding: chunked together (CL.TE smuggling)",
            R.bytes(lines: [R.line("Content-Length: 6"), R.line("Transfer-Encoding: chunked")], body: R.line("0\r\n\r\n") + smuggled, contentLength: false),
            malformed
        ),
        Case(
            "Transfer-Encoding: chunked then a second Transfer-Encoding (TE.TE smuggling)",
            R.bytes(lines: [R.line("Transfer-Encoding: chunked"), R.line("Transfer-Encoding: x")], body: R.chunked(R.sharedBody) + smuggled, contentLength: false),
            malformed
        ),
        Case(
            "Transfer-Encoding hidden by a tab and a comma (smuggling)",
            R.bytes(lines: [R.line("Transfer-Encoding:\tchunked, identity")], body: R.chunked(R.sharedBody) + smuggled, contentLength: false),
            malformed
        ),
        Case("two different Content-Lengths", R.bytes(lines: [R.line("Content-Length: 5")]), malformed),
        Case("Content-Length list 92, 92", R.bytes(lines: [R.line("Content-Length: \(R.sharedBody.count), \(R.sharedBody.count)")], contentLength: false), malformed),
        Case("negative Content-Length", R.bytes(lines: [R.line("Content-Length: -1")], contentLength: false), malformed),
        Case("Content-Length: +5", R.bytes(lines: [R.line("Content-Length: +5")], contentLength: false), malformed),
        Case("Content-Length of 25 digits", R.bytes(lines: [R.line("Content-Length: 9999999999999999999999999")], contentLength: false), malformed),
        Case("Content-Length in hex", R.bytes(lines: [R.line("Content-Length: 0x5c")], contentLength: false), malformed),
        Case(
            "invalid chunk size",
            R.bytes(lines: [R.line("Transfer-Encoding: chunked")], body: R.line("zz\r\nhello\r\n0\r\n\r\n"), contentLength: false),
            malformed
        ),
        Case(
            "chunk size of 18 hex digits",
            R.bytes(lines: [R.line("Transfer-Encoding: chunked")], body: R.line("FFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n"), contentLength: false),
            malformed
        ),
        Case(
            "negative chunk size",
            R.bytes(lines: [R.line("Transfer-Encoding: chunked")], body: R.line("-5\r\nhello\r\n0\r\n\r\n"), contentLength: false),
            malformed
        ),
        Case(
            "chunk extensions",
            R.bytes(lines: [R.line("Transfer-Encoding: chunked")], body: R.chunked(R.sharedBody, extension: ";name=value;quoted=\"a b\""), contentLength: false),
            ok
        ),
        Case(
            "chunk data longer than its size",
            R.bytes(lines: [R.line("Transfer-Encoding: chunked")], body: R.line("3\r\nhello\r\n0\r\n\r\n"), contentLength: false),
            malformed
        ),
        Case(
            "missing final chunk",
            R.bytes(lines: [R.line("Transfer-Encoding: chunked")], body: R.chunked(R.sharedBody, final: false), contentLength: false),
            .refused(408, code: "request_timeout")
        ),
        Case(
            "body shorter than its Content-Length",
            R.bytes(lines: [R.line("Content-Length: 500")], body: R.sharedBody, contentLength: false),
            .refused(408, code: "request_timeout")
        ),
        Case(
            "Transfer-Encoding: gzip without chunked",
            R.bytes(lines: [R.line("Transfer-Encoding: gzip")], body: R.sharedBodyGzip, contentLength: false),
            malformed
        ),
    ]

    static let sizes: [Case] = [
        Case("Content-Length over server.max_body_bytes", R.bytes(lines: [R.line("Content-Length: 2000000")], body: R.sharedBody, contentLength: false), .refused(413, code: "request_too_large")),
        Case(
            "chunked body over server.max_body_bytes",
            R.bytes(lines: [R.line("Transfer-Encoding: chunked")], body: R.chunked([UInt8](repeating: 0x20, count: 1_100_000), size: 65536), contentLength: false),
            .refused(413, code: "request_too_large")
        ),
        Case("one header of 20 KiB", R.bytes(lines: [R.line("X-Big: " + String(repeating: "b", count: 20_000))]), .refused(431, code: "request_header_fields_too_large")),
        Case("head of 100 KiB (over the HTTP parser's own limit)", R.bytes(lines: [R.line("X-Big: " + String(repeating: "b", count: 100_000))]), .refused(431, code: "request_header_fields_too_large")),
        Case("3000 headers", R.bytes(lines: (0..<3000).map { R.line("X-H\($0): v") }), .refused(431, code: "request_header_fields_too_large")),
        Case("URI of 40 KiB", R.bytes(target: R.chatPath + "?q=" + String(repeating: "u", count: 40_000)), .refused(431, code: "request_header_fields_too_large")),
    ]

    static let encodingsAndTargets: [Case] = [
        Case("gzip Content-Encoding on the request body", R.bytes(lines: [R.line("Content-Encoding: gzip")], body: R.sharedBodyGzip), .answered([400, 415])),
        Case("absurd method", R.bytes(method: "BREW"), malformed),
        Case("lower-case method", R.bytes(method: "post"), malformed),
        Case("GET with a JSON body on the chat path", R.bytes(method: "GET"), .answered([404, 405])),
        Case("absolute-form URI naming another host", R.bytes(target: "http://evil.example/v1/chat/completions"), .answered([200, 400, 404])),
        Case("OPTIONS *", R.bytes(method: "OPTIONS", target: "*", body: nil), .answered([400, 404, 405])),
        Case("dot-dot path to the admin endpoint", R.bytes(method: "DELETE", target: "/v1/../admin/cache", body: nil), .answered([400, 401, 403, 404, 405])),
        Case("percent-encoded dot-dot path", R.bytes(target: "/v1/%2e%2e/v1/chat/completions"), .answered([400, 404])),
        // The HTTP parser reads extra spaces as one: served, or refused as malformed.
        Case("request line with doubled spaces", R.bytes(target: " " + R.chatPath + " "), .answered([200, 400])),
        Case("HTTP/0.9 request line", R.line("GET /healthz\r\n\r\n"), malformed),
        Case("unknown HTTP version 3.7", R.bytes(version: "HTTP/3.7"), malformed),
        Case("HTTP/2 connection preface", R.line("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + [0, 0, 0, 4, 0, 0, 0, 0, 0], malformed),
        Case(
            "TLS ClientHello on the plain port",
            R.hexBytes("160301002f0100002b0303" + String(repeating: "ab", count: 32) + "000002130101000000"),
            malformed
        ),
        Case("binary garbage", (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }, malformed),
        Case(
            "HTTP/1.0 streaming request",
            R.bytes(version: "HTTP/1.0", body: R.chatBody(content: R.line("hostile streamed question"), extraMembers: #","stream":true"#)),
            ok, forbidsChunked: true
        ),
        Case("Expect: 100-continue", R.bytes(lines: [R.line("Expect: 100-continue")]), ok),
        Case("Upgrade: h2c", R.bytes(method: "GET", target: "/healthz", lines: [R.line("Connection: Upgrade, HTTP2-Settings"), R.line("Upgrade: h2c"), R.line("HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA")], body: nil, close: false), .answered([200, 400])),
    ]
}
