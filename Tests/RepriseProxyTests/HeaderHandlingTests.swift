import NIOCore
import NIOHTTP1
import RepriseCore
import Testing
@testable import RepriseProxy

@Suite struct HeaderHandlingTests {
    @Test func hopByHopHeadersAndThoseNamedInConnectionAreDropped() {
        let headers: HTTPHeaders = [
            "Connection": "keep-alive, X-Private", "Keep-Alive": "timeout=5", "TE": "trailers",
            "Transfer-Encoding": "chunked", "Upgrade": "h2c", "Proxy-Authorization": "Basic x",
            "X-Private": "secret", "Authorization": "Bearer sk", "Content-Type": "application/json",
        ]
        let kept = HopByHopHeaders.removing(from: headers, alsoRemoving: ["content-type"])
        #expect(kept.map(\.name) == ["Authorization"])
        #expect(kept.first(name: "authorization") == "Bearer sk")
    }

    /// A client for `http://127.0.0.1:9/prefix` and a chat request head carrying hop-by-hop,
    /// proxy-control and framing headers besides `framing`.
    static func upstreamClientAndHead(framing: HTTPHeaders) -> (UpstreamClient, HTTPRequestHead) {
        var config = UpstreamConfig()
        config.url = UpstreamURL(parsing: "http://127.0.0.1:9/prefix")!
        let client = UpstreamClient(config: config, tls: nil, eventLoopGroup: NIOSingletons.posixEventLoopGroup)
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions?x=1")
        head.headers = [
            "Host": "localhost:8080", "Authorization": "Bearer sk-1", "X-Reprise-Cache-TTL": "5",
            "Expect": "100-continue", "Accept-Encoding": "gzip", "Connection": "close",
        ]
        head.headers.add(contentsOf: framing)
        return (client, head)
    }

    /// The request the pooled client sends keeps credentials, loses hop-by-hop, proxy-control
    /// and framing headers, and is framed by the proxy itself.
    @Test func upstreamRequestsKeepCredentialsLoseProxyControlHeadersAndFrameTheBody() throws {
        var (client, head) = Self.upstreamClientAndHead(framing: ["Transfer-Encoding": "chunked"])
        defer { try? client.syncShutdown() }
        let forwarded = try client.makeUpstreamRequest(for: ProxyRequest(head: head, body: ByteBuffer(string: "{\"a\":1}"), receivedAt: .now()), identityEncoding: true)
        #expect(forwarded.head.uri == "/prefix/v1/chat/completions?x=1")
        #expect(forwarded.head.headers.first(name: "content-length") == "7")
        #expect(forwarded.head.headers.first(name: "authorization") == "Bearer sk-1")
        #expect(forwarded.head.headers.first(name: "accept-encoding") == "identity")
        for dropped in ["host", "x-reprise-cache-ttl", "transfer-encoding", "expect", "connection"] {
            #expect(forwarded.head.headers[dropped].isEmpty, "\(dropped) was forwarded")
        }
        let framed = try client.makeUpstreamRequest(
            for: ProxyRequest(head: Self.upstreamClientAndHead(framing: ["Content-Length": "2"]).1, body: ByteBuffer(string: "{}"), receivedAt: .now())
        )
        #expect(framed.head.headers["content-length"] == ["2"], "the client's Content-Length is replaced, not doubled")
        let empty = try client.makeUpstreamRequest(for: ProxyRequest(head: head, body: nil, receivedAt: .now()))
        #expect(empty.head.headers.first(name: "content-length") == "0")
        head.method = .GET
        head.uri = "http://localhost:8080/v1/models"
        let get = try client.makeUpstreamRequest(for: ProxyRequest(head: head, body: nil, receivedAt: .now()))
        #expect(get.head.uri == "/prefix/v1/models")
        #expect(get.head.headers["content-length"].isEmpty)
        head.uri = "*"
        #expect(throws: ProxyError.self) { try client.makeUpstreamRequest(for: ProxyRequest(head: head, body: nil, receivedAt: .now())) }
        head.uri = "/v1/models\u{01}x"
        #expect(throws: ProxyError.self) { try client.makeUpstreamRequest(for: ProxyRequest(head: head, body: nil, receivedAt: .now())) }
    }

    @Test func responseHeadsAreEncodedWithTheirFraming() {
        var buffer = ByteBuffer()
        ResponseHeadEncoder.encode(status: .ok, headers: ["content-type": "text/event-stream"], framing: .chunked, keepAlive: false, into: &buffer)
        #expect(String(buffer: buffer) == "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n")
        buffer.clear()
        ResponseHeadEncoder.encode(status: .tooManyRequests, headers: [:], framing: .contentLength(7), keepAlive: true, into: &buffer)
        #expect(String(buffer: buffer) == "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 7\r\n\r\n")
    }

    @Test func storedAnswersKeepOneContentTypeAndTheirOtherHeaders() throws {
        let entry = CacheEntry(
            status: 201,
            headers: [
                .init(name: "x-request-id", value: "req-1"),
                .init(name: "CONTENT-TYPE", value: "application/json; charset=utf-8"),
                .init(name: "content_type", value: "kept: not the same name"),
                .init(name: "content-typeX", value: "kept too"),
            ],
            createdAtMs: 0, ttlMs: 60_000, model: nil, usage: nil, body: .json(Array(#"{"id":"x"}"#.utf8))
        )
        let encoded = try CachedAnswer(entry: entry).encoded(for: .json)
        #expect(encoded.contentType == "application/json; charset=utf-8")
        #expect(String(buffer: encoded.head) == "HTTP/1.1 201 Created\r\ncontent-type: application/json; charset=utf-8\r\n"
            + "x-request-id: req-1\r\ncontent_type: kept: not the same name\r\ncontent-typeX: kept too\r\n"
            + "x-cache: HIT\r\ncontent-length: 10\r\n")
        #expect(String(buffer: encoded.body) == #"{"id":"x"}"#)

        var withoutType = entry
        withoutType.headers = [.init(name: "x-request-id", value: "req-1")]
        let fallback = try CachedAnswer(entry: withoutType).encoded(for: .json)
        #expect(String(buffer: fallback.head).hasPrefix("HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nx-request-id: req-1\r\n"))
    }

    @Test func decimalsAreWrittenWithoutStrings() {
        for value in [0, 7, 10, 99, 100, 4096, 1_000_000_007, Int.max, -1, -4096, Int.min] {
            var buffer = ByteBuffer()
            ResponseHeadEncoder.writeDecimal(value, into: &buffer)
            #expect(String(buffer: buffer) == String(value))
        }
    }

    @Test func proxyErrorsUseOpenAIShapeWithEscaping() {
        let error = ProxyError.badRequest("a \"quoted\"\nline")
        #expect(error.jsonBody() == #"{"error":{"message":"a \"quoted\"\nline","type":"invalid_request_error","code":"bad_request"}}"#)
    }

    @Test func adminTokenComparison() {
        #expect(AdminEndpoints.constantTimeEquals("0123456789abcdef", "0123456789abcdef"))
        #expect(!AdminEndpoints.constantTimeEquals("0123456789abcdef", "0123456789abcdeg"))
        #expect(!AdminEndpoints.constantTimeEquals("0123456789abcdef", "0123456789abcdef0"))
        #expect(AdminEndpoints.queryValue("namespace", in: "/admin/cache?a=1&namespace=team%20a") == "team a")
    }
}
