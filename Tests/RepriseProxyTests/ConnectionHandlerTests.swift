import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import RepriseProxy

/// The client connection on an `EmbeddedChannel`: pipelined requests answered at once (hits,
/// `/healthz`) are started one after another, never nested, and only while the client takes its
/// answers; HTTP/1.0 clients get framing they can read; a connection over the cap is refused;
/// the handler's own parsing takes requests in any split over reads.
@Suite struct ConnectionHandlerTests {
    /// Answers every request at once, like a cache hit, and records how deeply calls nested.
    final class ImmediateResponder: RequestResponder {
        private(set) var served = 0
        private var depth = 0
        private(set) var maxDepth = 0
        /// Runs before answering request number `served` (from 1).
        var beforeAnswering: (Int) -> Void = { _ in }

        func respond(to request: ProxyRequest, writer: ResponseWriter) {
            depth += 1
            maxDepth = max(maxDepth, depth)
            defer { depth -= 1 }
            served += 1
            beforeAnswering(served)
            writer.send(status: .ok, headers: ["content-type": "application/json"], body: ByteBuffer(string: "{\"n\":\(served)}"))
        }
    }

    /// Answers with a body of unknown length (a relayed stream) in two parts.
    final class StreamingResponder: RequestResponder {
        func respond(to request: ProxyRequest, writer: ResponseWriter) {
            writer.writeHead(status: .ok, headers: ["content-type": "text/event-stream"], contentLength: nil)
            writer.writeBodyPart(ByteBuffer(string: "data: one\n\n"))
            writer.writeBodyPart(ByteBuffer(string: "data: [DONE]\n\n"))
            writer.end()
        }
    }

    static let limits = ConnectionLimits(maxBodyBytes: 1 << 20, maxHeaderBytes: 65536, idleTimeout: .seconds(60), requestTimeout: .seconds(30))

    static func channel(_ responder: RequestResponder, refusal: ConnectionRefusal? = nil) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            HTTPConnectionHandler(responder: responder, limits: limits, logger: Logger(label: "test"), refusal: refusal)
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    /// Everything written to the client so far.
    static func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    static func pipelined(_ count: Int, version: String = "HTTP/1.1", extra: String = "") -> ByteBuffer {
        var buffer = ByteBuffer()
        for _ in 0..<count { buffer.writeString("GET /healthz \(version)\r\nHost: x\r\n\(extra)\r\n") }
        return buffer
    }

    static func statusLines(_ text: String) -> Int {
        text.components(separatedBy: "HTTP/1.1 200 OK\r\n").count - 1
    }

    @Test func pipelinedRequestsAnsweredAtOnceDoNotNest() throws {
        let responder = ImmediateResponder()
        let channel = try Self.channel(responder)
        try channel.writeInbound(Self.pipelined(200))
        let text = try Self.written(channel)
        #expect(responder.served == 200)
        #expect(Self.statusLines(text) == 200)
        #expect(responder.maxDepth == 1, "respond was entered \(responder.maxDepth) levels deep")
        #expect(text.hasSuffix("{\"n\":200}"))
        _ = try? channel.finish()
    }

    /// Counts the flushes that reach the socket.
    final class FlushCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        private(set) var flushes = 0

        func flush(context: ChannelHandlerContext) {
            flushes += 1
            context.flush()
        }
    }

    @Test func theAnswersOfOneReadGoOutInOneFlush() throws {
        let responder = ImmediateResponder()
        let channel = EmbeddedChannel()
        let counter = FlushCounter()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(
            HTTPConnectionHandler(responder: responder, limits: Self.limits, logger: Logger(label: "test"))
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(Self.pipelined(3))
        #expect(Self.statusLines(try Self.written(channel)) == 3)
        #expect(counter.flushes == 1)
        // A request alone in its read: its own flush.
        try channel.writeInbound(Self.pipelined(1))
        #expect(Self.statusLines(try Self.written(channel)) == 1)
        #expect(counter.flushes == 2)
        // A closing answer is flushed before the connection closes, not left for the read's end.
        try channel.writeInbound(Self.pipelined(1, extra: "Connection: close\r\n"))
        #expect(Self.statusLines(try Self.written(channel)) == 1)
        _ = try? channel.finish()
    }

    @Test func tenThousandPipelinedRequestsInOneWriteAreAnsweredInOrder() throws {
        let responder = ImmediateResponder()
        let channel = try Self.channel(responder)
        try channel.writeInbound(Self.pipelined(10_000))
        let text = try Self.written(channel)
        #expect(responder.served == 10_000)
        #expect(Self.statusLines(text) == 10_000)
        #expect(text.range(of: "{\"n\":9999}")!.lowerBound < text.range(of: "{\"n\":10000}")!.lowerBound)
        _ = try? channel.finish()
    }

    @Test func queuedRequestsWaitWhileTheClientDoesNotReadItsAnswers() throws {
        let responder = ImmediateResponder()
        let channel = try Self.channel(responder)
        // After the second answer the client's socket buffer is "full".
        responder.beforeAnswering = { served in if served == 2 { channel.isWritable = false } }
        try channel.writeInbound(Self.pipelined(5))
        #expect(responder.served == 2)
        #expect(Self.statusLines(try Self.written(channel)) == 2)

        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(responder.served == 5)
        #expect(Self.statusLines(try Self.written(channel)) == 3)
        _ = try? channel.finish()
    }

    @Test func aRequestArrivingWhileTheClientDoesNotReadWaitsToo() throws {
        let responder = ImmediateResponder()
        let channel = try Self.channel(responder)
        responder.beforeAnswering = { _ in channel.isWritable = false }
        try channel.writeInbound(Self.pipelined(1))
        try channel.writeInbound(Self.pipelined(1))
        #expect(responder.served == 1)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(responder.served == 2)
        _ = try? channel.finish()
    }

    @Test func anHTTP10StreamIsCloseDelimitedNotChunked() throws {
        let channel = try Self.channel(StreamingResponder())
        try channel.writeInbound(Self.pipelined(1, version: "HTTP/1.0", extra: "Connection: keep-alive\r\n"))
        let text = try Self.written(channel)
        #expect(!text.lowercased().contains("transfer-encoding"))
        #expect(text.lowercased().contains("connection: close\r\n"))
        #expect(text.hasSuffix("\r\n\r\ndata: one\n\ndata: [DONE]\n\n"))
        #expect(!channel.isActive, "a close-delimited body ends with the connection")
    }

    @Test func anHTTP11StreamStaysChunked() throws {
        let channel = try Self.channel(StreamingResponder())
        try channel.writeInbound(Self.pipelined(1))
        let text = try Self.written(channel)
        #expect(text.contains("transfer-encoding: chunked\r\n"))
        #expect(text.hasSuffix("0\r\n\r\n"))
        _ = try? channel.finish()
    }

    @Test func anHTTP10ClientAskingForKeepAliveGetsItAnnouncedWhenTheLengthIsKnown() throws {
        let channel = try Self.channel(ImmediateResponder())
        try channel.writeInbound(Self.pipelined(1, version: "HTTP/1.0", extra: "Connection: keep-alive\r\n"))
        let text = try Self.written(channel).lowercased()
        #expect(text.contains("content-length: 7\r\n"))
        #expect(text.contains("connection: keep-alive\r\n"))
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    @Test func anHTTP10ClientWithoutKeepAliveIsAnsweredAndClosed() throws {
        let channel = try Self.channel(ImmediateResponder())
        try channel.writeInbound(Self.pipelined(1, version: "HTTP/1.0"))
        let text = try Self.written(channel).lowercased()
        #expect(text.contains("content-length: 7\r\n"))
        #expect(text.contains("connection: close\r\n"))
    }

    @Test func aConnectionOverTheCapIsAnswered503AndClosedWithoutARequest() throws {
        let responder = ImmediateResponder()
        let refusal = ConnectionRefusal(error: .tooManyConnections(limit: 3), afterTLSHandshake: false)
        let channel = try Self.channel(responder, refusal: refusal)
        let text = try Self.written(channel)
        #expect(text.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(text.contains("retry-after: 1\r\n"))
        #expect(text.contains("connection: close\r\n"))
        #expect(text.contains("\"type\":\"api_error\",\"code\":\"too_many_connections\""))
        try channel.writeInbound(Self.pipelined(1))
        #expect(responder.served == 0)
        _ = try? channel.finish()
    }

    /// Answers every request with its body, to see what arrived.
    final class EchoResponder: RequestResponder {
        private(set) var requests: [(uri: String, body: String)] = []

        func respond(to request: ProxyRequest, writer: ResponseWriter) {
            let body = request.body.map { String(buffer: $0) } ?? ""
            requests.append((request.head.uri, body))
            writer.send(status: .ok, headers: ["content-type": "text/plain"], body: ByteBuffer(string: body))
        }
    }

    @Test(arguments: [
        ("1048577", "413"), ("1048576", nil), ("99999999999999999999999999", "400"), ("-1", "400"), ("12a", "400"),
    ])
    func declaredLengthsAreComparedWithoutOverflow(value: String, status: String?) throws {
        let channel = try Self.channel(EchoResponder())
        try channel.writeInbound(ByteBuffer(string: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \(value)\r\n\r\n"))
        let text = try Self.written(channel)
        if let status {
            #expect(text.hasPrefix("HTTP/1.1 \(status) "), "\(text)")
        } else {
            #expect(text.isEmpty, "the body is awaited")
        }
        _ = try? channel.finish()
    }

    @Test func aRequestSplitAcrossReadsAtEveryByteIsServedWhole() throws {
        let responder = EchoResponder()
        let channel = try Self.channel(responder)
        let request = "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "POST /v1/two HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        for byte in request.utf8 { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        #expect(responder.requests.map(\.uri) == ["/v1/embeddings", "/v1/two"])
        #expect(responder.requests.map(\.body) == ["hello", "abcde"])
        #expect(Self.statusLines(try Self.written(channel)) == 2)
        _ = try? channel.finish()
    }

    @Test func bytesThatAreNoRequestAreAnswered400OnceAndWhatFollowsIsDropped() throws {
        let responder = EchoResponder()
        let channel = try Self.channel(responder)
        try channel.writeInbound(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nNOT A REQUEST\r\n\r\n"))
        try channel.writeInbound(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
        let text = try Self.written(channel)
        #expect(responder.requests.count == 1)
        #expect(text.components(separatedBy: "HTTP/1.1 400 Bad Request\r\n").count == 2, "\(text)")
        #expect(text.contains("malformed HTTP request: invalid HTTP method"))
        _ = try? channel.finish()
    }

    @Test func aConnectionEndingInsideARequestServesNothing() throws {
        let responder = EchoResponder()
        let channel = try Self.channel(responder)
        try channel.writeInbound(ByteBuffer(string: "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel"))
        _ = try? channel.finish()
        #expect(responder.requests.isEmpty)
    }
}
