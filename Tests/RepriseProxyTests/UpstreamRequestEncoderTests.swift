import NIOCore
import NIOEmbedded
import NIOHTTP1
import RepriseCore
import Testing
@testable import RepriseProxy

/// The upstream request written as bytes: exact heads, what is dropped and set, and no way for a
/// client's header or target to end a header or the head early.
@Suite struct UpstreamRequestEncoderTests {
    /// A client for `http://127.0.0.1:9/prefix`.
    static func client() -> UpstreamClient {
        var config = UpstreamConfig()
        config.url = UpstreamURL(parsing: "http://127.0.0.1:9/prefix")!
        return UpstreamClient(config: config, tls: nil, eventLoopGroup: NIOSingletons.posixEventLoopGroup)
    }

    /// A chat request head carrying hop-by-hop, proxy-control, framing and credential headers.
    static func chatHead(adding extra: HTTPHeaders = [:]) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions?x=1")
        head.headers = [
            "Host": "localhost:8080", "Authorization": "Bearer sk-1", "X-Reprise-Cache-TTL": "5",
            "Expect": "100-continue", "Accept-Encoding": "gzip", "Connection": "close, X-Hop",
            "X-Hop": "private", "Transfer-Encoding": "chunked", "Content-Length": "99", "Content-Type": "application/json",
        ]
        head.headers.add(contentsOf: extra)
        return head
    }

    static func encoded(_ head: HTTPRequestHead, body: String?, identityEncoding: Bool = false) throws -> (UpstreamRequest, String) {
        let client = client()
        defer { try? client.syncShutdown() }
        let request = try client.makeUpstreamRequest(
            method: head.method, uri: head.uri, headers: head.headers, body: body.map { ByteBuffer(string: $0) }, identityEncoding: identityEncoding)
        return (request, String(buffer: request.head))
    }

    @Test func aClientRequestGoesUpstreamFromItsReceivedBytesWithItsCredentialsReplaced() throws {
        let client = Self.client()
        defer { try? client.syncShutdown() }
        let head = ParsedHeads.parse(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/embeddings", headers: [
            "Host": "localhost", "Authorization": "Bearer sk-client", "api-key": "sk-client", "Content-Type": "application/json",
            "Connection": "X-Hop", "X-Hop": "1", "Content-Length": "2",
        ]))
        var request = ProxyRequest(head: RequestHead(head), body: ByteBuffer(string: "{}"), receivedAt: .now())
        #expect(String(buffer: try client.makeUpstreamRequest(for: request).head) == "POST /prefix/v1/embeddings HTTP/1.1\r\nhost: 127.0.0.1:9\r\n"
            + "Authorization: Bearer sk-client\r\napi-key: sk-client\r\nContent-Type: application/json\r\ncontent-length: 2\r\n\r\n")
        request.upstreamAuthorization = "Bearer sk-upstream"
        #expect(String(buffer: try client.makeUpstreamRequest(for: request).head) == "POST /prefix/v1/embeddings HTTP/1.1\r\nhost: 127.0.0.1:9\r\n"
            + "Content-Type: application/json\r\nauthorization: Bearer sk-upstream\r\ncontent-length: 2\r\n\r\n")
    }

    @Test func theHeadIsTheUpstreamsTargetHostTheClientsOtherHeadersAndTheProxysFraming() throws {
        let (request, text) = try Self.encoded(Self.chatHead(), body: #"{"a":1}"#, identityEncoding: true)
        #expect(text == "POST /prefix/v1/chat/completions?x=1 HTTP/1.1\r\nhost: 127.0.0.1:9\r\n"
            + "Authorization: Bearer sk-1\r\nContent-Type: application/json\r\n"
            + "accept-encoding: identity\r\ncontent-length: 7\r\n\r\n")
        #expect(request.method == .POST)
        #expect(request.body.map { String(buffer: $0) } == #"{"a":1}"#)

        let (_, keepsEncoding) = try Self.encoded(Self.chatHead(), body: "{}")
        #expect(keepsEncoding.contains("\r\nAccept-Encoding: gzip\r\n"), "the client's own when no identity is needed")
        #expect(keepsEncoding.hasSuffix("\r\ncontent-length: 2\r\n\r\n"), "the client's Content-Length is replaced, not doubled")
    }

    @Test func bodiesAreFramedByMethod() throws {
        let (_, empty) = try Self.encoded(Self.chatHead(), body: nil)
        #expect(empty.hasSuffix("\r\ncontent-length: 0\r\n\r\n"), "a POST without a body says so")
        var get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://localhost:8080/v1/models")
        get.headers = ["Accept": "*/*"]
        let (request, text) = try Self.encoded(get, body: nil)
        #expect(text == "GET /prefix/v1/models HTTP/1.1\r\nhost: 127.0.0.1:9\r\nAccept: */*\r\n\r\n", "absolute form reduced to the path, no framing")
        #expect(request.method == .GET)
    }

    /// Values are never cut or repaired: a request whose header could end a line early is refused
    /// (400) and nothing of it is written. NIO's request decoder refuses most of these already;
    /// the encoder does not rely on it.
    @Test func noClientValueCanInjectAHeaderOrEndTheHead() throws {
        let injections: [(String, String)] = [
            ("X-Evil", "a\r\nX-Injected: 1"), ("X-Evil", "a\nb"), ("X-Evil", "a\rb"), ("X-Evil", "a\u{0}b"),
            ("X-Evil", "a\u{7F}b"), ("X-Evil", "a\u{1B}b"), ("X-Evil: b\r\nX", "c"), ("Bad Name", "v"), ("", "v"),
        ]
        for (name, value) in injections {
            var head = Self.chatHead()
            head.headers.add(name: name, value: value)
            #expect(throws: ProxyError.self, "\(name.debugDescription): \(value.debugDescription)") { try Self.encoded(head, body: "{}") }
        }
        var fine = Self.chatHead(adding: ["X-Tabbed": "a\tb", "X-Latin": "caf\u{E9}", "X-Token!#$%&'*+-.^_`|~": "1"])
        fine.headers.add(name: "X-Empty", value: "")
        let (_, text) = try Self.encoded(fine, body: "{}")
        #expect(text.contains("\r\nX-Tabbed: a\tb\r\nX-Latin: caf\u{E9}\r\nX-Token!#$%&'*+-.^_`|~: 1\r\nX-Empty: \r\n"))

        for target in ["*", "/v1/models x", "/v1/models\u{01}x", "/v1/\r\nX: 1", "/v1/\u{7F}"] {
            var head = Self.chatHead()
            head.uri = target
            #expect(throws: ProxyError.self, "\(target.debugDescription)") { try Self.encoded(head, body: "{}") }
        }
        var raw = Self.chatHead()
        raw.method = .RAW(value: "PO ST")
        #expect(throws: ProxyError.self) { try Self.encoded(raw, body: "{}") }
    }

    /// Through a real connection pipeline (the response decoder in front of the connection): the
    /// head and body go out as written, and the decoder, told the method, reads an answer to
    /// `HEAD` as bodiless although it announces a length.
    @Test func theConnectionWritesTheBytesAndTheDecoderKnowsTheMethod() throws {
        let channel = EmbeddedChannel()
        let pool = UpstreamConnectionPool(
            eventLoop: channel.embeddedEventLoop, host: "127.0.0.1", port: 9,
            maxConnections: 1, connectTimeout: .seconds(1), readTimeout: .seconds(30), tls: nil)
        let decoder = UpstreamResponseDecoder()
        let connection = UpstreamConnection(pool: pool, readTimeout: .seconds(30), tlsHandshake: nil, responseDecoder: decoder)
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
        try channel.pipeline.syncOperations.addHandler(connection)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        let sink = UpstreamConnectionHandlerTests.RecordingSink(eventLoop: channel.eventLoop)

        var headRequest = HTTPRequestHead(version: .http1_1, method: .HEAD, uri: "/v1/models")
        headRequest.headers = ["Accept": "*/*"]
        let (request, text) = try Self.encoded(headRequest, body: nil)
        // The first call as the pool starts it on a new connection; the second through the pool.
        connection.start(UpstreamCall(request: request, deadline: .now() + .seconds(60), sink: sink, pool: pool))
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == text)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "one write")
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 40\r\n\r\n"))
        #expect(sink.events == ["head 200", "end"])

        let chat = UpstreamConnectionHandlerTests.RecordingSink(eventLoop: channel.eventLoop)
        let (post, postHead) = try Self.encoded(Self.chatHead(), body: "{}")
        _ = pool.execute(post, deadline: .now() + .seconds(60), sink: chat)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == postHead)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "{}")
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"))
        #expect(chat.events == ["head 200", "body ok", "end"])

        // Nothing asked: an answer is unsolicited, and the connection closes.
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"))
        #expect(!channel.isActive)
        _ = try? channel.finish()
    }
}
