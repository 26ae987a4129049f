import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import RepriseProxy

/// `UpstreamConnection` running its state machine's actions on an `EmbeddedChannel`: response
/// parts fed as the HTTP decoder would, the request written, reads passed on or held, the
/// channel closed, the pool and a recording sink told.
///
/// The handler reads the real clock; timeouts are driven by deadlines that have already passed
/// (or a read timeout of 1 ms) and the embedded loop advanced to now.
@Suite struct UpstreamConnectionHandlerTests {
    /// A real sink that records what reaches it. Body parts are taken at once, or, with
    /// `takesAtOnce` off, when the test succeeds `untaken`.
    final class RecordingSink: UpstreamResponseSink {
        let eventLoop: EventLoop
        var takesAtOnce = true
        private(set) var events: [String] = []
        private(set) var untaken: [EventLoopPromise<Void>] = []

        init(eventLoop: EventLoop) {
            self.eventLoop = eventLoop
        }

        func upstreamHead(_ head: HTTPResponseHead) { events.append("head \(head.status.code)") }

        func upstreamBody(_ part: ByteBuffer) -> EventLoopFuture<Void> {
            events.append("body \(String(buffer: part))")
            if takesAtOnce { return eventLoop.makeSucceededVoidFuture() }
            let promise = eventLoop.makePromise(of: Void.self)
            untaken.append(promise)
            return promise.futureResult
        }

        func upstreamEnd() { events.append("end") }

        func upstreamFailed(_ error: UpstreamCallError) { events.append("failed: \(error)") }

        func upstreamFirstByteTimedOut() { events.append("first byte timed out") }

        func takeAll() {
            let promises = untaken
            untaken = []
            for promise in promises { promise.succeed() }
        }
    }

    /// Counts the reads the connection passes on toward the socket.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        private(set) var reads = 0

        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    /// One connection on an `EmbeddedChannel`, with the pool it belongs to (held: the
    /// connection's reference is weak).
    struct Fixture {
        let channel: EmbeddedChannel
        let connection: UpstreamConnection
        let pool: UpstreamConnectionPool
        let reads: ReadCounter

        init(readTimeout: TimeAmount = .seconds(30)) throws {
            channel = EmbeddedChannel()
            pool = UpstreamConnectionPool(
                eventLoop: channel.embeddedEventLoop, host: "127.0.0.1", port: 9,
                maxConnections: 1, connectTimeout: .seconds(1), readTimeout: readTimeout, tls: nil)
            connection = UpstreamConnection(pool: pool, readTimeout: readTimeout, tlsHandshake: nil, responseDecoder: nil)
            reads = ReadCounter()
            try channel.pipeline.syncOperations.addHandler(reads)
            try channel.pipeline.syncOperations.addHandler(connection)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        }

        func sink() -> RecordingSink { RecordingSink(eventLoop: channel.eventLoop) }

        /// Starts a call on the connection, as the pool does.
        func start(_ sink: RecordingSink, deadline: NIODeadline = .now() + .seconds(120)) -> UpstreamCall {
            let head = ByteBuffer(string: "POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 2\r\n\r\n")
            let request = UpstreamRequest(method: .POST, head: head, body: ByteBuffer(string: "{}"))
            let call = UpstreamCall(request: request, deadline: deadline, sink: sink, pool: pool)
            connection.start(call)
            return call
        }

        /// The writes so far, as text; a head by its request line.
        func written() throws -> [String] {
            var writes: [String] = []
            while let bytes = try channel.readOutbound(as: ByteBuffer.self) {
                let text = String(buffer: bytes)
                writes.append(text.hasSuffix("\r\n\r\n") ? String(text.prefix { $0 != "\r\n" }) : text)
            }
            return writes
        }

        func answer(_ parts: HTTPClientResponsePart...) throws {
            for part in parts { try channel.writeInbound(part) }
        }
    }

    static func head(_ status: HTTPResponseStatus = .ok, headers: HTTPHeaders = ["content-length": "2"]) -> HTTPClientResponsePart {
        .head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))
    }

    // MARK: Calls

    @Test func aKeptAliveAnswerReturnsTheConnectionToThePoolForTheNextCall() throws {
        let fixture = try Fixture()
        let first = fixture.sink()
        _ = fixture.start(first)
        #expect(try fixture.written() == ["POST /v1/chat/completions HTTP/1.1", "{}"])
        try fixture.answer(Self.head(.continue, headers: [:]), Self.head(), .body(ByteBuffer(string: "ok")), .end(nil))
        #expect(first.events == ["head 200", "body ok", "end"])
        #expect(fixture.channel.isActive)

        // The pool rests the connection and hands it the next call (it may open no other).
        let second = fixture.sink()
        let request = UpstreamRequest(method: .GET, head: ByteBuffer(string: "GET /v1/models HTTP/1.1\r\n\r\n"), body: nil)
        _ = fixture.pool.execute(request, deadline: .now() + .seconds(120), sink: second)
        #expect(try fixture.written() == ["GET /v1/models HTTP/1.1"])
        try fixture.answer(Self.head(), .body(ByteBuffer(string: "[]")), .end(nil))
        #expect(second.events == ["head 200", "body []", "end"])
        _ = try? fixture.channel.finish()
    }

    @Test func anAnswerNotKeptAliveClosesTheConnection() throws {
        let closing = try Fixture()
        let closingSink = closing.sink()
        _ = closing.start(closingSink)
        try closing.answer(Self.head(headers: ["content-length": "0", "connection": "close"]), .end(nil))
        #expect(closingSink.events == ["head 200", "end"])
        #expect(!closing.channel.isActive)
    }

    @Test func readsWaitUntilTheSinkTookThePart() throws {
        let fixture = try Fixture()
        let sink = fixture.sink()
        sink.takesAtOnce = false
        _ = fixture.start(sink)
        try fixture.answer(Self.head(), .body(ByteBuffer(string: "a")))
        let before = fixture.reads.reads
        fixture.channel.read()
        fixture.channel.read()
        #expect(fixture.reads.reads == before, "held while the part is not taken")
        sink.takeAll()
        #expect(fixture.reads.reads == before + 1, "the held read, once")
        fixture.channel.read()
        #expect(fixture.reads.reads == before + 2)
        _ = try? fixture.channel.finish()
    }

    // MARK: Other ends

    @Test func aCancelledCallClosesTheConnectionMidAnswer() throws {
        let fixture = try Fixture()
        let sink = fixture.sink()
        let call = fixture.start(sink)
        try fixture.answer(Self.head())
        call.cancel()
        #expect(sink.events == ["head 200", "failed: cancelled"])
        #expect(!fixture.channel.isActive)
    }

    @Test func theUpstreamClosingFailsTheCallRemoteClosed() throws {
        let fixture = try Fixture()
        let sink = fixture.sink()
        _ = fixture.start(sink)
        try fixture.answer(Self.head(), .body(ByteBuffer(string: "o")))
        fixture.channel.pipeline.fireChannelInactive()
        #expect(sink.events == ["head 200", "body o", "failed: \(UpstreamCallError.remoteClosed)"])
    }

    @Test func aParserErrorFailsTheCallBadResponseAndCloses() throws {
        let fixture = try Fixture()
        let sink = fixture.sink()
        _ = fixture.start(sink)
        fixture.channel.pipeline.fireErrorCaught(HTTPParserError.invalidStatus)
        #expect(sink.events == ["failed: \(UpstreamCallError.badResponse("\(HTTPParserError.invalidStatus)"))"])
        #expect(!fixture.channel.isActive)
    }

    @Test func anAnswerNobodyAskedForClosesTheConnection() throws {
        let fixture = try Fixture()
        try fixture.answer(Self.head())
        #expect(!fixture.channel.isActive)
    }

    // MARK: Timeouts

    @Test func aCallPastItsTotalDeadlineFailsDeadlineExceeded() throws {
        let fixture = try Fixture()
        let sink = fixture.sink()
        _ = fixture.start(sink, deadline: .now() - .milliseconds(1))
        #expect(try fixture.written() == ["POST /v1/chat/completions HTTP/1.1", "{}"])
        #expect(sink.events == [], "decided when the wake-up comes")
        fixture.channel.embeddedEventLoop.advanceTime(to: .now())
        #expect(sink.events == ["failed: \(UpstreamCallError.deadlineExceeded)"])
        #expect(!fixture.channel.isActive)
    }

    @Test func noByteWithinTheReadTimeoutFailsReadTimeout() throws {
        let fixture = try Fixture(readTimeout: .milliseconds(1))
        let sink = fixture.sink()
        _ = fixture.start(sink)
        // Real time must pass (the handler reads the clock); on this thread, which the embedded
        // loop requires.
        let later = NIODeadline.now() + .milliseconds(2)
        while NIODeadline.now() < later {}
        fixture.channel.embeddedEventLoop.advanceTime(to: .now())
        #expect(sink.events == ["failed: \(UpstreamCallError.readTimeout)"])
        #expect(!fixture.channel.isActive)
    }

    @Test func aRestThatEndedClosesTheConnection() throws {
        let fixture = try Fixture()
        fixture.connection.restUntil(.now() + .seconds(60))
        fixture.channel.embeddedEventLoop.advanceTime(to: .now())
        #expect(fixture.channel.isActive, "resting")
        fixture.connection.restUntil(.now())
        fixture.channel.embeddedEventLoop.advanceTime(to: .now())
        #expect(!fixture.channel.isActive)
    }
}
