import NIOCore
import NIOHTTP1
import RepriseCore
import RepriseRedis

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
    /// The last body part was flushed and nothing was written since: `end()` has nothing to
    /// flush (an empty flush still walks the pipeline: ~1,100 instructions, callgrind).
    private var bodyFlushed = false
    private var state: State = .awaitingHead
    private var clientGoneCallbacks: [() -> Void] = []
    /// What this request did, for the metrics and the access log (`observer`), reported once.
    var record: RequestRecord
    let observer: RequestObserver?
    private var answerTail: AnswerTail?
    private var reported = false
    /// The route this request is counted in progress on (`countInProgress`); it leaves that
    /// count when it is reported. Nil: not counted (Reprise's own endpoints, error answers the
    /// connection writes before a request reaches the responder).
    private var startedRoute: String?
    /// Where this connection's request metrics add up (its event loop's shard).
    private let metricsShard: RequestMetricsShard?
    /// Called once with the record when the request is reported (the limiter's release and
    /// token correction).
    var onReport: ((RequestRecord) -> Void)?
    /// A limit check deferred until the request is known to go upstream (`limits.exempt_cache_hits`):
    /// run once by `admitDeferred`. The limiter and the key, not a closure: a hit allocates nothing
    /// for a check it never runs.
    var deferredAdmission: (limiter: RequestLimiter, key: ClientKey?)?
    /// A routed request's routing and position: told the record once the request is reported
    /// (its rollback guard). A stored pair, not a closure: nothing allocated per request.
    var routed: (routing: RoutingRuntime, position: RequestRoute.Position)?

    enum State { case awaitingHead, streamingBody, finished }

    init(
        connection: HTTPConnectionHandler, context: ChannelHandlerContext, isHeadRequest: Bool, isHTTP10: Bool, keepAlive: Bool,
        record: RequestRecord, observer: RequestObserver?, metricsShard: RequestMetricsShard? = nil
    ) {
        self.connection = connection
        self.context = context
        self.isHeadRequest = isHeadRequest
        self.isHTTP10 = isHTTP10
        self.keepAlive = keepAlive
        self.record = record
        self.observer = observer
        self.metricsShard = metricsShard
        if observer?.wantsAnswerTail == true { answerTail = AnswerTail() }
    }

    /// The metrics of this request's server, for the upstream exchange's attempt counts.
    var metrics: ProxyMetrics? { observer?.metrics }

    /// This request is one of Reprise's own (`/metrics`, health): not an API request, so it is
    /// neither in the active-requests gauge (a scrape does not count itself) nor counted or
    /// logged at its end.
    func markOperational() {
        record.isOperational = true
    }

    /// The request is on `route` (routing chose it): it counts in progress there
    /// (`llm_active_requests`) until it is reported. Counted once the route is known rather
    /// than when the writer is made: a routed request counted under `default` first would have
    /// to move, a second trip through the shard's lock on every hit.
    func countInProgress(on route: String) {
        record.route = route
        guard startedRoute == nil, !reported, !record.isOperational, let observer else { return }
        if observer.started(route: route, shard: metricsShard) { startedRoute = route }
    }

    /// Reports the request once: at its end, its abort, or its client leaving, whichever first.
    private func report(_ outcome: RequestRecord.Outcome) {
        guard !reported else { return }
        reported = true
        if record.status == 0 { record.status = Self.clientClosedRequest }
        record.outcome = outcome
        // Read once from the answer's end, for the limiter's correction and the metrics alike.
        if record.usage == nil, (200 ..< 300).contains(record.status), let answerTail { record.usage = answerTail.usage }
        guard onReport != nil || observer != nil || routed != nil else { return }
        // One copy for every reader: passing the stored property itself would copy it per call
        // (a callee could change this writer meanwhile).
        let record = self.record
        if let onReport {
            self.onReport = nil
            onReport(record)
        }
        observer?.finished(record, answerTail: answerTail, startedRoute: startedRoute, shard: metricsShard)
        startedRoute = nil
        answerTail = nil
        if let (routing, position) = routed {
            routed = nil
            routing.requestEnded(position, record: record)
        }
    }

    /// Runs the deferred limit check of `request`, if one is pending, then `proceed` when it admits.
    func admitDeferred(_ request: ProxyRequest, _ proceed: @escaping () -> Void) {
        guard let (limiter, key) = deferredAdmission else { return proceed() }
        deferredAdmission = nil
        limiter.admit(request, key: key, writer: self, proceed: proceed)
    }

    /// Keeps the answer's tail for its `usage` even without metrics or a body log (the token
    /// limit's correction); only before the head is written.
    func keepAnswerTail() {
        if answerTail == nil, state == .awaitingHead { answerTail = AnswerTail() }
    }

    /// nginx's status for a request whose client left before an answer was written.
    static let clientClosedRequest = 499

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
        if state != .finished { report(.clientGone) }
        let callbacks = clientGoneCallbacks
        clientGoneCallbacks = []
        for callback in callbacks { callback() }
    }

    /// Writes status and headers. `contentLength` nil means a streamed body: chunked, or
    /// close-delimited for an HTTP/1.0 client (then the connection closes after it).
    public func writeHead(status: HTTPResponseStatus, headers: HTTPHeaders, contentLength: Int?) {
        writeHead(status: status, contentLength: contentLength, headerBytes: 0) { buffer in
            for (name, value) in headers {
                ResponseHeadEncoder.writeHeader(name: name, value: value, into: &buffer)
            }
        }
    }

    /// As `writeHead(status:headers:contentLength:)`, the headers written by `writeHeaders` as
    /// `name: value\r\n` lines (no framing, no connection header): a relayed upstream head
    /// goes from its decoded form into these bytes without a header list in between.
    /// `headerBytes`: about how many bytes `writeHeaders` writes, so the buffer is not grown.
    func writeHead(status: HTTPResponseStatus, contentLength: Int?, headerBytes: Int, writeHeaders: (inout ByteBuffer) -> Void) {
        precondition(state == .awaitingHead, "response head written twice")
        state = .streamingBody
        record.status = Int(status.code)
        if !(200 ..< 300).contains(record.status) { answerTail = nil }
        guard !clientGone, let connection else { return }
        record.firstByteAt = .now()
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
        // 256: the status line, framing, request id, variant and connection lines, and a few
        // headers of Reprise's own, with room to spare.
        var buffer = context.channel.allocator.buffer(capacity: 256 + headerBytes)
        // HEAD keeps the GET's Content-Length when the upstream sent one.
        let advertised: BodyFraming = isHeadRequest ? contentLength.map { .contentLength($0) } ?? framing : framing
        ResponseHeadEncoder.writeStatusLine(status, into: &buffer)
        writeHeaders(&buffer)
        ResponseHeadEncoder.writeFraming(advertised, into: &buffer)
        buffer.writeRaw(maximum: perResponseLinesCapacity) { writePerResponseLines(age: nil, into: &$0) }
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
        guard write(bodyPart: part) else { return context.eventLoop.makeSucceededVoidFuture() }
        context.flush()
        bodyFlushed = true
        return connection.whenWritable()
    }

    /// Writes one body part in the response's framing, unflushed; false when nothing was
    /// written (no body, or an empty chunk).
    private func write(bodyPart part: ByteBuffer) -> Bool {
        answerTail?.append(part)
        switch framing {
        case .none:
            return false
        case .contentLength, .closeDelimited:
            context.write(NIOAny(part), promise: nil)
        case .chunked:
            guard part.readableBytes > 0 else { return false }
            var header = context.channel.allocator.buffer(capacity: 12)
            ResponseHeadEncoder.writeChunkHeader(size: part.readableBytes, into: &header)
            context.write(NIOAny(header), promise: nil)
            context.write(NIOAny(part), promise: nil)
            context.write(NIOAny(Self.crlf), promise: nil)
        }
        return true
    }

    /// Completes the response; the connection moves on to the next request or closes.
    public func end() {
        guard state != .finished else { return }
        state = .finished
        // The callbacks usually capture what feeds this writer (which holds the writer):
        // dropping them when the response is over breaks that cycle.
        clientGoneCallbacks = []
        report(.completed)
        guard !clientGone, let connection else { return }
        if framing == .chunked {
            context.write(NIOAny(Self.lastChunk), promise: nil)
            connection.flushEndedResponse(keepAlive: keepAlive)
        } else if !bodyFlushed {
            connection.flushEndedResponse(keepAlive: keepAlive)
        }
        connection.responseEnded(keepAlive: keepAlive)
    }

    /// Cuts the connection without completing the response, so the client sees a truncated
    /// message instead of a well-formed but partial one.
    public func abort() {
        guard state != .finished else { return }
        state = .finished
        clientGoneCallbacks = []
        report(.aborted)
        guard !clientGone, let connection else { return }
        connection.abortConnection()
    }

    /// A stored answer: its pre-encoded head, then `age`, then its body, one flush.
    ///
    /// The head and the per-response lines go out as one buffer; a body up to
    /// `storedBodyCopyLimit` joins them (copying a few KiB costs less than a second write
    /// through the pipeline), a larger one is written as the stored buffer itself, uncopied.
    func sendStored(status: Int, head: ByteBuffer, ageSeconds: Int, body: ByteBuffer) {
        precondition(state == .awaitingHead, "response head written twice")
        state = .streamingBody
        record.status = status
        guard !clientGone, let connection else { return }
        record.firstByteAt = .now()
        if connection.isDraining { keepAlive = false }
        if let observer, observer.accessLog?.includeBodies == true { answerTail?.append(body) } else { answerTail = nil }
        let joinBody = !isHeadRequest && body.readableBytes <= Self.storedBodyCopyLimit
        var out = connection.takeResponseBuffer(capacity: head.readableBytes + perResponseLinesCapacity + (joinBody ? body.readableBytes : 0))
        out.writeImmutableBuffer(head)
        out.writeRaw(maximum: perResponseLinesCapacity) { writePerResponseLines(age: ageSeconds, into: &$0) }
        if joinBody { out.writeImmutableBuffer(body) }
        context.write(NIOAny(out), promise: nil)
        if !isHeadRequest, !joinBody { context.write(NIOAny(body), promise: nil) }
        end()
        // Unique again once the kernel took every byte (after the flush, which may wait for the
        // read batch to end); a buffer still held then is copied on its next use, not overwritten.
        connection.giveBackResponseBuffer(out)
    }

    /// The lines every response ends its head with: a stored answer's `age`, the request's id
    /// (the client's `X-Request-Id`, or Reprise's), a routed request's variant, `connection`
    /// when it must be said, the blank line.
    private func writePerResponseLines(age: Int?, into writer: inout RawByteWriter) {
        if let age {
            writer.append("age: ")
            writer.appendDecimal(max(0, age))
            writer.append("\r\n")
        }
        writer.append("x-request-id: ")
        record.requestID.write(into: &writer)
        writer.append("\r\n")
        if let line = record.variantLine { line.withUnsafeBytes { writer.append($0) } }
        ResponseHeadEncoder.appendEnd(keepAlive: keepAlive, announceKeepAlive: isHTTP10, to: &writer)
    }

    /// Room for `writePerResponseLines`: `age` (at most 27 bytes), `x-request-id` (16 + the
    /// id), the `x-reprise-variant` line and the end of the head (at most 26). A response
    /// buffer sized with it is never grown (a second allocation and a copy).
    private var perResponseLinesCapacity: Int {
        let id: Int
        switch record.requestID {
        case .client(let text): id = text.utf8.count
        case .generated: id = 33
        }
        return 27 + 16 + id + (record.variantLine?.count ?? 0) + ResponseHeadEncoder.maxEndBytes
    }

    /// Largest stored body copied into the response's single buffer.
    static let storedBodyCopyLimit = 4096

    /// A whole small response in one write.
    public func send(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: ByteBuffer) {
        writeHead(status: status, headers: headers, contentLength: body.readableBytes)
        // Unflushed: `end()` flushes it with the head (with the read batch's other answers).
        if !isHeadRequest, body.readableBytes > 0, !clientGone, connection != nil { _ = write(bodyPart: body) }
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
