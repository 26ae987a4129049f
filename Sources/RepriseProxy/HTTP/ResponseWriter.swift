import NIOCore
import NIOHTTP1

/// Writes one response onto the client connection, as bytes, with back-pressure.
///
/// Lives on the connection's event loop. The owner calls `writeHead` once, then
/// `writeBodyPart` any number of times, then `end()` — or `abort()` to cut the connection when
/// a response cannot be completed (an upstream stream broke after the head went out).
public final class ResponseWriter {
    private weak var connection: HTTPConnectionHandler?
    private let context: ChannelHandlerContext
    let isHeadRequest: Bool
    /// An HTTP/1.0 client reads no chunked body: a body of unknown length is close-delimited,
    /// and a kept-alive connection must be announced.
    let isHTTP10: Bool
    private(set) var keepAlive: Bool
    private var framing: BodyFraming = .none
    private var state: State = .awaitingHead
    private var clientGoneCallbacks: [() -> Void] = []

    enum State { case awaitingHead, streamingBody, finished }

    init(connection: HTTPConnectionHandler, context: ChannelHandlerContext, isHeadRequest: Bool, isHTTP10: Bool, keepAlive: Bool) {
        self.connection = connection
        self.context = context
        self.isHeadRequest = isHeadRequest
        self.isHTTP10 = isHTTP10
        self.keepAlive = keepAlive
    }

    public var eventLoop: EventLoop { context.eventLoop }
    /// True once the head was written: from then on an error can only cut the connection.
    public var headWritten: Bool { state != .awaitingHead }
    public var isFinished: Bool { state == .finished }
    public private(set) var clientGone = false

    /// Runs `callback` (on the event loop) if the client disconnects before the response ended.
    public func onClientGone(_ callback: @escaping () -> Void) {
        if clientGone { callback() } else { clientGoneCallbacks.append(callback) }
    }

    func clientDisconnected() {
        guard !clientGone else { return }
        clientGone = true
        let callbacks = clientGoneCallbacks
        clientGoneCallbacks = []
        for callback in callbacks { callback() }
    }

    /// Writes status and headers. `contentLength` nil means a streamed body: chunked, or
    /// close-delimited for an HTTP/1.0 client (then the connection closes after it).
    public func writeHead(status: HTTPResponseStatus, headers: HTTPHeaders, contentLength: Int?) {
        precondition(state == .awaitingHead, "response head written twice")
        state = .streamingBody
        guard !clientGone, let connection else { return }
        if connection.isDraining { keepAlive = false }
        let bodyless = isHeadRequest || status.code == 204 || status.code == 304 || status.code < 200
        if bodyless {
            framing = .none
        } else if let contentLength {
            framing = .contentLength(contentLength)
        } else if isHTTP10 {
            framing = .closeDelimited
            keepAlive = false
        } else {
            framing = .chunked
        }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        // HEAD keeps the GET's Content-Length when the upstream sent one.
        let advertised: BodyFraming = isHeadRequest ? contentLength.map { .contentLength($0) } ?? framing : framing
        ResponseHeadEncoder.encode(
            status: status, headers: headers, framing: advertised, keepAlive: keepAlive, announceKeepAlive: isHTTP10, into: &buffer
        )
        context.write(NIOAny(buffer), promise: nil)
        if framing == .none || framing == .chunked || framing == .closeDelimited {
            // Flush now: the client sees the head of a stream before its first event.
            context.flush()
        }
    }

    /// Writes and flushes one body part. The future completes when the channel can take more,
    /// which is the back-pressure signal for the producer (the upstream reader).
    @discardableResult
    public func writeBodyPart(_ part: ByteBuffer) -> EventLoopFuture<Void> {
        precondition(state == .streamingBody, "body part outside of a response")
        guard !clientGone, let connection else { return context.eventLoop.makeSucceededVoidFuture() }
        switch framing {
        case .none:
            return context.eventLoop.makeSucceededVoidFuture()
        case .contentLength, .closeDelimited:
            context.write(NIOAny(part), promise: nil)
        case .chunked:
            guard part.readableBytes > 0 else { return context.eventLoop.makeSucceededVoidFuture() }
            var header = context.channel.allocator.buffer(capacity: 12)
            ResponseHeadEncoder.writeChunkHeader(size: part.readableBytes, into: &header)
            context.write(NIOAny(header), promise: nil)
            context.write(NIOAny(part), promise: nil)
            context.write(NIOAny(Self.crlf), promise: nil)
        }
        context.flush()
        return connection.whenWritable()
    }

    /// Completes the response; the connection moves on to the next request or closes.
    public func end() {
        guard state != .finished else { return }
        state = .finished
        // The callbacks usually capture what feeds this writer (which holds the writer):
        // dropping them when the response is over breaks that cycle.
        clientGoneCallbacks = []
        guard !clientGone, let connection else { return }
        if framing == .chunked {
            context.write(NIOAny(Self.lastChunk), promise: nil)
        }
        context.flush()
        connection.responseEnded(keepAlive: keepAlive)
    }

    /// Cuts the connection without completing the response, so the client sees a truncated
    /// message instead of a well-formed but partial one.
    public func abort() {
        guard state != .finished else { return }
        state = .finished
        clientGoneCallbacks = []
        guard !clientGone, let connection else { return }
        connection.abortConnection()
    }

    /// A stored answer: its pre-encoded head, then `age`, then its body, one flush.
    ///
    /// The head and the per-response lines go out as one buffer; a body up to
    /// `storedBodyCopyLimit` joins them (copying a few KiB costs less than a second write
    /// through the pipeline), a larger one is written as the stored buffer itself, uncopied.
    func sendStored(head: ByteBuffer, ageSeconds: Int, body: ByteBuffer) {
        precondition(state == .awaitingHead, "response head written twice")
        state = .streamingBody
        guard !clientGone, let connection else { return }
        if connection.isDraining { keepAlive = false }
        let joinBody = !isHeadRequest && body.readableBytes <= Self.storedBodyCopyLimit
        var out = context.channel.allocator.buffer(capacity: head.readableBytes + 64 + (joinBody ? body.readableBytes : 0))
        out.writeImmutableBuffer(head)
        out.writeStaticString("age: ")
        ResponseHeadEncoder.writeDecimal(ageSeconds, into: &out)
        out.writeStaticString("\r\n")
        ResponseHeadEncoder.writeEnd(keepAlive: keepAlive, announceKeepAlive: isHTTP10, into: &out)
        if joinBody { out.writeImmutableBuffer(body) }
        context.write(NIOAny(out), promise: nil)
        if !isHeadRequest, !joinBody { context.write(NIOAny(body), promise: nil) }
        end()
    }

    /// Largest stored body copied into the response's single buffer.
    static let storedBodyCopyLimit = 4096

    /// A whole small response in one write.
    public func send(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: ByteBuffer) {
        writeHead(status: status, headers: headers, contentLength: body.readableBytes)
        if !isHeadRequest, body.readableBytes > 0 { writeBodyPart(body) }
        end()
    }

    /// An error of Reprise's own, in OpenAI's error shape.
    public func send(error: ProxyError, extraHeaders: HTTPHeaders = HTTPHeaders()) {
        var headers = extraHeaders
        headers.add(name: "content-type", value: "application/json")
        send(status: HTTPResponseStatus(statusCode: error.status), headers: headers,
             body: context.channel.allocator.buffer(string: error.jsonBody()))
    }

    private static let crlf = ByteBuffer(string: "\r\n")
    private static let lastChunk = ByteBuffer(string: "0\r\n\r\n")
}
