import NIOCore
import RepriseHTTP
import Testing

@Suite struct RequestHeadParserTests {
    static let chat = "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: reprise.test\r\nContent-Type: application/json\r\n"
        + "Content-Length: 11\r\nAuthorization: Bearer sk-test\r\nUser-Agent: t/1\r\nAccept: */*\r\n\r\n{\"a\":\"bcd\"}"

    @Test func readsTheHeadAsRangesAndTheBody() {
        #expect(ParsedEvents.of(Self.chat).description == """
            head POST /v1/chat/completions?x=1 HTTP/1.1 [Host: reprise.test] [Content-Type: application/json] \
            [Content-Length: 11] [Authorization: Bearer sk-test] [User-Agent: t/1] [Accept: */*] \
            length=11 chunked=false keepAlive=true upgrade=false continue=false
            body {"a":"bcd"}
            end
            no error
            """)
    }

    @Test func theHeadBytesAreTheReceivedOnesAndLookupIgnoresCase() throws {
        let parser = RequestHeadParser()
        var buffer = ByteBuffer(string: Self.chat)
        guard case .head(let head) = try parser.next(&buffer) else { Issue.record("no head"); return }
        #expect(String(buffer: head.bytes) == String(Self.chat.dropLast(11)))
        #expect(head.firstValue(named: "content-TYPE").map(head.string) == "application/json")
        #expect(head.firstValue(named: "x-missing") == nil)
        #expect(head.bytes(head.method, equalIgnoringASCIICase: "post"))
        #expect(buffer.readableBytes == 11, "the body is still to be read")
    }

    /// The parser reuses its field list's storage for the next request: a head still held (a
    /// pipelined request queued) must keep its own fields.
    @Test func aHeadHeldWhileTheNextIsParsedKeepsItsFields() throws {
        let parser = RequestHeadParser()
        var buffer = ByteBuffer(string: "GET /a HTTP/1.1\r\nHost: a\r\nX-One: 1\r\n\r\nGET /b HTTP/1.1\r\nX-Two: 2\r\n\r\n")
        guard case .head(let first) = try parser.next(&buffer) else { Issue.record("no first head"); return }
        #expect(try parser.next(&buffer) == .end(trailers: nil))
        guard case .head(let second) = try parser.next(&buffer) else { Issue.record("no second head"); return }
        #expect(first.fields.count == 2 && first.firstValue(named: "x-one").map(first.string) == "1")
        #expect(second.fields.count == 1 && second.firstValue(named: "x-two").map(second.string) == "2")
    }

    @Test func everySplitGivesTheSameEvents() {
        let bytes = Array((Self.chat + Self.chunked + "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").utf8)
        let whole = ParsedEvents.of([bytes[...]])
        #expect(whole.error == nil)
        for split in 1 ..< bytes.count {
            let cut = ParsedEvents.of([bytes[..<split], bytes[split...]])
            #expect(cut == whole, "split at \(split)")
            if cut != whole { return }
        }
        #expect(ParsedEvents.of(bytes.map { [$0][...] }) == whole, "one byte at a time")
    }

    static let chunked = "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"

    @Test func pipelinedRequestsInOneBufferComeInOrder() {
        let parsed = ParsedEvents.of(Self.chunked + "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
        #expect(parsed.description == """
            head POST /c HTTP/1.1 [Host: a] [Transfer-Encoding: chunked] length=- chunked=true keepAlive=true upgrade=false continue=false
            body hello world
            end [X-Trailer: t]
            head GET /a HTTP/1.1 [Host: a] length=- chunked=false keepAlive=true upgrade=false continue=false
            end
            head GET /b HTTP/1.0 length=- chunked=false keepAlive=false upgrade=false continue=false
            end
            no error
            """)
    }

    @Test func expectContinueAndUpgradeAreFramingFacts() throws {
        let expecting = ParsedEvents.of("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 0\r\n\r\n")
        #expect(expecting.events.first?.hasSuffix("continue=true") == true)

        let parser = RequestHeadParser()
        var buffer = ByteBuffer(string: "GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\u{1}\u{2}not http")
        guard case .head(let head) = try parser.next(&buffer) else { Issue.record("no head"); return }
        #expect(head.framing.isUpgrade)
        guard case .end = try parser.next(&buffer) else { Issue.record("no end"); return }
        #expect(try parser.next(&buffer) == nil)
        #expect(parser.isStopped)
        #expect(String(buffer: buffer) == "\u{1}\u{2}not http", "the other protocol's bytes are left alone")
    }

    @Test(arguments: [
        ("obs-fold", "GET / HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n", RequestParseError.Kind.foldedHeaderLine),
        ("bad chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .llhttp(code: 12, name: "HPE_INVALID_CHUNK_SIZE")),
        ("negative chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", .llhttp(code: 12, name: "HPE_INVALID_CHUNK_SIZE")),
        (
            "Content-Length then Transfer-Encoding", "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            .llhttp(code: 15, name: "HPE_INVALID_TRANSFER_ENCODING")
        ),
        (
            "Transfer-Encoding then Content-Length", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            .llhttp(code: 11, name: "HPE_INVALID_CONTENT_LENGTH")
        ),
        ("two different Content-Lengths", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .llhttp(code: 4, name: "HPE_UNEXPECTED_CONTENT_LENGTH")),
        ("Content-Length: +5", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", .llhttp(code: 11, name: "HPE_INVALID_CONTENT_LENGTH")),
        ("NUL in a header value", "GET / HTTP/1.1\r\nX: a\u{0}b\r\n\r\n", .llhttp(code: 10, name: "HPE_INVALID_HEADER_TOKEN")),
        ("bare CR in a header value", "GET / HTTP/1.1\r\nX: a\rY: b\r\n\r\n", .llhttp(code: 3, name: "HPE_LF_EXPECTED")),
        ("space before the colon", "GET / HTTP/1.1\r\nX : a\r\n\r\n", .llhttp(code: 10, name: "HPE_INVALID_HEADER_TOKEN")),
        ("lower-case method", "post / HTTP/1.1\r\n\r\n", .llhttp(code: 6, name: "HPE_INVALID_METHOD")),
        ("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", .unsupportedVersion(major: 2)),
        ("HTTP/0.9 request line", "GET /\r\n\r\n", .unsupportedVersion(major: 0)),
        ("ends inside the head", "GET / HTTP/1.1\r\nHost: a", .endedInsideRequest),
        ("ends inside the body", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", .endedInsideRequest),
    ])
    func refuses(_ name: String, _ request: String, _ kind: RequestParseError.Kind) {
        #expect(ParsedEvents.of(request).error == kind, "\(name)")
    }

    @Test func boundsTheHeadAsConfigured() {
        let limits = RequestHeadLimits(maxFieldBytes: 64, maxHeadBytes: 128, maxFieldCount: 4)
        let longValue = "GET / HTTP/1.1\r\nX: \(String(repeating: "v", count: 65))\r\n\r\n"
        let longHead = "GET / HTTP/1.1\r\n" + (0 ..< 4).map { "X\($0): \(String(repeating: "v", count: 40))\r\n" }.joined() + "\r\n"
        let manyFields = "GET / HTTP/1.1\r\n" + (0 ..< 5).map { "X\($0): v\r\n" }.joined() + "\r\n"
        let longTarget = "GET /\(String(repeating: "t", count: 64)) HTTP/1.1\r\n\r\n"
        for request in [longValue, longHead, manyFields, longTarget] {
            #expect(ParsedEvents.of(request, limits: limits).error == .headTooLarge)
        }
        let fits = "GET / HTTP/1.1\r\n" + (0 ..< 4).map { "X\($0): \(String(repeating: "v", count: 20))\r\n" }.joined() + "\r\n"
        #expect(ParsedEvents.of(fits, limits: limits).error == nil)
    }

    @Test func afterAnErrorEveryCallThrowsIt() {
        let parser = RequestHeadParser()
        var buffer = ByteBuffer(string: "BREW / HTTP/1.1\r\n\r\n")
        #expect(throws: RequestParseError.self) { try parser.next(&buffer) }
        buffer.writeString("GET / HTTP/1.1\r\n\r\n")
        #expect(throws: RequestParseError.self) { try parser.next(&buffer) }
    }
}
