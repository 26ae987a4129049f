import NIOCore
import NIOHTTP1
import RepriseCore
import Testing
@testable import RepriseProxy

@Suite struct HeaderHandlingTests {
    @Test func hopByHopHeadersAndThoseNamedInConnectionAreNotRelayedToTheClient() {
        let headers: HTTPHeaders = [
            "Connection": "keep-alive, X-Private , close", "Keep-Alive": "timeout=5", "TE": "trailers",
            "Transfer-Encoding": "chunked", "Upgrade": "h2c", "Proxy-Authenticate": "Basic", "X-Private": "secret",
            "Content-Type": "application/json", "X-Cache": "HIT", "X-Request-ID": "req-up", "X-Privates": "kept",
        ]
        let relayed = RelayedResponseHead(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))
        #expect(relayed.forwardedHeaders.map(\.name) == ["Content-Type", "X-Privates"])
        var lines = ByteBuffer()
        relayed.writeForwarded(into: &lines)
        #expect(String(buffer: lines) == "Content-Type: application/json\r\nX-Privates: kept\r\n")
        #expect(relayed.contentLength == nil, "chunked: no length")
        #expect(relayed.upstreamRequestID == "req-up")

        let framed = RelayedResponseHead(
            HTTPResponseHead(version: .http1_1, status: .ok, headers: ["CONTENT-LENGTH": "12", "content-length": "99"]))
        #expect(framed.contentLength == 12, "the first length")
        #expect(framed.forwardedHeaders.isEmpty)
        #expect(HopByHopHeaders.names.allSatisfy { HopByHopHeaders.contains($0.uppercased().utf8) })
        #expect(!HopByHopHeaders.contains("connections".utf8) && !HopByHopHeaders.contains("tf".utf8))
        let gzipped = RelayedResponseHead(
            HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Transfer-Encoding": "gzip, CHUNKED", "content-length": "5"]))
        #expect(gzipped.contentLength == nil)
        let notChunked = RelayedResponseHead(
            HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Transfer-Encoding": "chunke", "content-length": "5"]))
        #expect(notChunked.contentLength == 5)
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

    @Test func aHeadEndsSayingConnectionOnlyWhenItMust() {
        func end(keepAlive: Bool, announce: Bool) -> String {
            var buffer = ByteBuffer()
            ResponseHeadEncoder.writeEnd(keepAlive: keepAlive, announceKeepAlive: announce, into: &buffer)
            return String(buffer: buffer)
        }
        #expect(end(keepAlive: true, announce: false) == "\r\n")
        #expect(end(keepAlive: false, announce: false) == "connection: close\r\n\r\n")
        #expect(end(keepAlive: false, announce: true) == "connection: close\r\n\r\n")
        #expect(end(keepAlive: true, announce: true) == "connection: keep-alive\r\n\r\n")
        #expect(end(keepAlive: true, announce: true).utf8.count == ResponseHeadEncoder.maxEndBytes)
    }
}
