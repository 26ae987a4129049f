import Logging
import NIOCore
import NIOHTTP1
import RepriseHTTP
import RepriseTLS

/// One client connection: parses the bytes read (`RequestHeadParser`, llhttp, over the
/// connection's read buffer: no decoder handler in front, no `String` per header), hands each
/// complete request to the responder and serializes responses in request order.
///
/// A thin runner: every decision (limits, pipelining and back-pressure, refusal, drain,
/// timeouts, lingering) is `HTTPConnectionStateMachine`'s. This handler feeds it the channel's
/// events with the time and runs the actions it returns; it keeps what touches NIO (the context,
/// the current `ResponseWriter`, the wake-up for deadlines, the writers' writability promises).
final class HTTPConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let responder: RequestResponder
    private let observer: RequestObserver?
    private let logger: Logger
    private var machine: HTTPConnectionStateMachine
    private let parser = RequestHeadParser()
    /// Bytes read and not yet consumed by the parser: a head or body still arriving. Nil once
    /// every byte read is parsed, so the read buffer is not held between reads (the channel, or
    /// the TLS handler, reuses one that nothing else holds).
    private var inbound: ByteBuffer?
    /// Inside the parsing loop: a read that arrives from an action run there only adds its bytes,
    /// which the running loop parses next.
    private var isParsing = false
    /// A response that ended while a read's requests were being served waits for the read's
    /// end (`channelReadComplete`): the responses of one read batch (pipelined requests) go out
    /// in one flush, one TLS pass and one `writev`.
    private var flushPending = false
    /// The parser refused the bytes (answered once) or stopped after an upgrade request: what
    /// the client sends after is dropped unparsed.
    private var dropsReads = false
    /// The response in progress, told when the client leaves.
    private var writer: ResponseWriter?
    /// Serves the machine's deadline.
    private var wakeUp: DeadlineWakeUp
    private var writabilityWaiters: [EventLoopPromise<Void>] = []
    private var context: ChannelHandlerContext!
    /// Where this connection's request metrics add up: its event loop's shard, found once.
    private var metricsShard: RequestMetricsShard?
    /// The buffer a stored answer is written from, handed back after the write and reused by
    /// the connection's next one: once the kernel took the bytes, nothing else holds it, so a
    /// hit on a kept-alive connection allocates no response buffer.
    private var responseBuffer: ByteBuffer?

    /// Read by the writer: a draining connection answers `connection: close`.
    var isDraining: Bool { machine.isDraining }

    init(responder: RequestResponder, limits: ConnectionLimits, logger: Logger, refusal: ConnectionRefusal? = nil,
         observer: RequestObserver? = nil) {
        self.responder = responder
        self.observer = observer
        self.machine = HTTPConnectionStateMachine(limits: limits, refusal: refusal)
        self.wakeUp = DeadlineWakeUp(maxAhead: min(limits.idleTimeout, limits.requestTimeout))
        self.logger = logger
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        metricsShard = observer?.requestShard(for: context.eventLoop)
        if context.channel.isActive { start() }
    }

    func channelActive(context: ChannelHandlerContext) {
        start()
        context.fireChannelActive()
    }

    private func start() {
        let now = NIODeadline.now()
        run(machine.connectionStarted(now: now), now: now)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted { run(machine.tlsHandshakeCompleted(), now: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        wakeUp.cancel()
        // A connection that ended inside a request is a malformed one (as NIO's decoder said).
        if !dropsReads {
            do {
                try parser.finish()
            } catch {
                run(machine.requestUnreadable(error), now: nil)
            }
        }
        run(machine.channelInactive(), now: nil)
        writer = nil
        failWritabilityWaiters()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        wakeUp.cancel()
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !dropsReads else { return }
        var bytes = unwrapInboundIn(data)
        if inbound == nil {
            // The usual case: the previous read was parsed to its end; take the new buffer as it is.
            inbound = bytes
        } else {
            inbound!.discardReadBytes()
            inbound!.writeBuffer(&bytes)
        }
        guard !isParsing else { return }
        isParsing = true
        defer { isParsing = false }
        // One clock read per socket read: the events in it arrived together.
        let now = NIODeadline.now()
        while true {
            let event: RequestParseEvent?
            do {
                event = try parser.next(&inbound!)
            } catch {
                dropReads()
                run(machine.requestUnreadable(error), now: now)
                return
            }
            guard let event else { break }
            run(machine.requestPartReceived(event, now: now), now: now)
        }
        // After an upgrade request what follows is not HTTP/1: dropped, never parsed.
        if parser.isStopped { dropReads() }
        if inbound?.readableBytes == 0 { inbound = nil }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfPending()
        context.fireChannelReadComplete()
    }

    /// Flushes a response that has ended: now, or with the rest of the read batch when it ended
    /// while the batch is served and the connection stays open (a closing connection flushes
    /// before it closes, whatever else is pending).
    func flushEndedResponse(keepAlive: Bool) {
        if isParsing, keepAlive {
            flushPending = true
        } else {
            flushPending = false
            context.flush()
        }
    }

    private func flushIfPending() {
        guard flushPending else { return }
        flushPending = false
        context?.flush()
    }

    private func dropReads() {
        dropsReads = true
        inbound = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        run(machine.errorCaught(error), now: nil)
    }

    // MARK: Called by ResponseWriter

    func responseEnded(keepAlive: Bool) {
        writer = nil
        let now = NIODeadline.now()
        let isWritable = context?.channel.isWritable ?? true
        run(machine.responseEnded(keepAlive: keepAlive, isWritable: isWritable, now: now), now: now)
    }

    func abortConnection() {
        writer = nil
        run(machine.responseAborted(), now: nil)
    }

    /// A cleared buffer of at least `capacity` bytes for a response written whole: the one the
    /// previous response handed back when nothing holds it any more, else a new one.
    func takeResponseBuffer(capacity: Int) -> ByteBuffer {
        guard var buffer = responseBuffer else { return context.channel.allocator.buffer(capacity: capacity) }
        responseBuffer = nil
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    /// Keeps `buffer` (already written) for the next response; a large one is let go.
    func giveBackResponseBuffer(_ buffer: ByteBuffer) {
        guard buffer.capacity <= Self.keptResponseBufferBytes else { return }
        responseBuffer = buffer
    }

    /// Largest response buffer a connection keeps between requests.
    static let keptResponseBufferBytes = 16 * 1024

    /// Completes when the channel is writable again (immediately when it is).
    func whenWritable() -> EventLoopFuture<Void> {
        if context.channel.isWritable { return context.eventLoop.makeSucceededVoidFuture() }
        let promise = context.eventLoop.makePromise(of: Void.self)
        writabilityWaiters.append(promise)
        return promise.futureResult
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let isWritable = context.channel.isWritable
        if isWritable {
            let waiters = writabilityWaiters
            writabilityWaiters = []
            for waiter in waiters { waiter.succeed() }
        }
        run(machine.writabilityChanged(isWritable: isWritable), now: nil)
        context.fireChannelWritabilityChanged()
    }

    private func failWritabilityWaiters() {
        let waiters = writabilityWaiters
        writabilityWaiters = []
        for waiter in waiters { waiter.fail(ChannelError.ioOnClosedChannel) }
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        run(machine.readRequested(), now: nil)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is DrainConnectionEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        run(machine.drainRequested(), now: nil)
        promise?.succeed()
    }

    // MARK: Running actions

    /// Runs one action. `now` is the time the event was fed with; nil for events that take no
    /// time (they never arm a deadline, but the clock is read if one did).
    private func run(_ action: HTTPConnectionStateMachine.Action, now: NIODeadline?) {
        switch action {
        case .none:
            break
        case .armDeadline(let deadline):
            ensureWakeUp(by: deadline.due, now: now ?? .now())
        case .sendContinueAndArmDeadline(let deadline):
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
            ensureWakeUp(by: deadline.due, now: now ?? .now())
        case .respond(let parsed, let body, let receivedAt, let keepAlive):
            let head = RequestHead(parsed)
            var record = RequestRecord(requestID: RequestID.of(head.headers), method: head.method, path: Self.path(of: head.uri), receivedAt: receivedAt)
            if observer?.accessLog?.includeBodies == true { record.loggedBody = body }
            let writer = ResponseWriter(
                connection: self, context: context, isHeadRequest: head.method == .HEAD,
                isHTTP10: head.version == .http1_0, keepAlive: keepAlive, record: record, observer: observer,
                metricsShard: metricsShard
            )
            self.writer = writer
            responder.respond(to: ProxyRequest(head: head, body: body, receivedAt: receivedAt), writer: writer)
        case .answerError(let answer):
            send(answer)
        case .requestTimedOut(let answer):
            // The path only: a query string can carry a credential (`?api_key=`).
            let path = answer.head.map { Self.path(of: $0.string($0.target)) } ?? ""
            logger.debug("request timed out while receiving", metadata: ["path": "\(path)"])
            send(answer)
        case .close:
            flushIfPending()
            context?.close(promise: nil)
        case .closeOutputAndLinger:
            flushIfPending()
            context.close(mode: .output).assumeIsolated().whenComplete { [weak self] _ in
                guard let self, self.context != nil else { return }
                let now = NIODeadline.now()
                self.run(self.machine.outputClosed(now: now), now: now)
            }
        case .readUntil(let deadline):
            context.read()
            ensureWakeUp(by: deadline.due, now: now ?? .now())
        case .read:
            context.read()
        case .armDeadlineAndStartQueuedRequests(let deadline):
            ensureWakeUp(by: deadline.due, now: now ?? .now())
            startQueuedRequests()
        case .startQueuedRequests:
            startQueuedRequests()
        case .notifyClientLeft:
            writer?.clientDisconnected()
        }
    }

    /// Serves pipelined requests that arrived meanwhile, in order, as long as the machine says
    /// so. Iterative: a response that ends inside the loop (a hit) comes back through
    /// `responseEnded`, which the machine answers without starting a second loop.
    private func startQueuedRequests() {
        while true {
            let now = NIODeadline.now()
            guard let action = machine.nextQueuedPart(now: now) else { return }
            run(action, now: now)
        }
    }

    private func send(_ answer: ConnectionErrorAnswer) {
        let head = answer.head.map(RequestHead.init)
        let record = RequestRecord(
            requestID: head.map { RequestID.of($0.headers) } ?? RequestID.make(), method: head?.method,
            path: head.map { Self.path(of: $0.uri) } ?? "", receivedAt: .now()
        )
        let writer = ResponseWriter(
            connection: self, context: context, isHeadRequest: answer.isHeadRequest, isHTTP10: answer.isHTTP10, keepAlive: false,
            record: record, observer: observer, metricsShard: metricsShard
        )
        self.writer = writer
        var headers = HTTPHeaders()
        if let seconds = answer.retryAfterSeconds { headers.add(name: "retry-after", value: String(seconds)) }
        writer.send(error: answer.error, extraHeaders: headers)
    }

    /// The path without the query or fragment: a query can carry a credential (`?api_key=`).
    static func path(of uri: String) -> Substring {
        // Bytes, not Characters: no grapheme breaking per request.
        let end = uri.utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? uri.utf8.endIndex
        return uri[..<end]
    }

    // MARK: Deadlines

    private func ensureWakeUp(by due: NIODeadline, now: NIODeadline) {
        guard let context, let target = wakeUp.target(by: due, now: now) else { return }
        wakeUp.schedule(at: target, on: context.eventLoop) { [weak self] in
            self?.deadlineWakeUp()
        }
    }

    private func deadlineWakeUp() {
        wakeUp.fired()
        let now = NIODeadline.now()
        run(machine.wakeUpFired(now: now), now: now)
    }
}
