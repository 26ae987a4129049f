import Logging
import NIOCore
import NIOHTTP1

/// Limits the connection handler enforces, from `server:` in the configuration.
public struct ConnectionLimits: Sendable {
    public var maxBodyBytes: Int
    public var maxHeaderBytes: Int
    public var idleTimeout: TimeAmount
    public var requestTimeout: TimeAmount

    public init(maxBodyBytes: Int, maxHeaderBytes: Int, idleTimeout: TimeAmount, requestTimeout: TimeAmount) {
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
    }
}

/// Asks a connection to finish its current response and close (graceful shutdown).
struct DrainConnectionEvent {}

/// One client connection: assembles requests from the decoder, enforces the limits, hands each
/// complete request to the responder and serializes responses in request order.
///
/// Pipelining: while a response is in progress, the parts of following requests are queued and
/// reads are held back, so a client that pipelines cannot make the proxy buffer without bound.
final class HTTPConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Waiting for a request head; the idle timer runs.
        case idle
        /// Head received, body arriving; the request timer runs.
        case receiving(head: HTTPRequestHead, body: ByteBuffer?, receivedAt: NIODeadline)
        /// A response is being produced; later requests wait in `queuedParts`.
        case responding(ResponseWriter)
        /// An answer that ends the connection was sent; everything else is ignored.
        case closing
    }

    private let responder: RequestResponder
    private let limits: ConnectionLimits
    private let logger: Logger
    private var state = State.idle
    private var queuedParts = CircularBuffer<HTTPServerRequestPart>()
    private var readPending = false
    /// When the current phase (idle, receiving a request, lingering) times out; see `setDeadline`.
    private var deadline: (due: NIODeadline, action: DeadlineAction)?
    /// Checks `deadline`.
    private var wakeUp: DeadlineWakeUp
    private var writabilityWaiters: [EventLoopPromise<Void>] = []
    private var context: ChannelHandlerContext!
    private(set) var isDraining = false
    /// Set when the proxy answers before reading the whole request (413, 408, 400).
    private var lingerBeforeClose = false
    /// How long unread request bytes are drained after an early answer before the close.
    private static let lingerTime = TimeAmount.seconds(2)

    init(responder: RequestResponder, limits: ConnectionLimits, logger: Logger) {
        self.responder = responder
        self.limits = limits
        self.wakeUp = DeadlineWakeUp(maxAhead: min(limits.idleTimeout, limits.requestTimeout))
        self.logger = logger
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { armIdleTimer() }
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        wakeUp.cancel()
        if case .responding(let writer) = state {
            writer.clientDisconnected()
        }
        state = .closing
        queuedParts.removeAll()
        failWritabilityWaiters()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        wakeUp.cancel()
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch state {
        case .responding:
            queuedParts.append(part)
        case .closing:
            break
        case .idle, .receiving:
            handle(part)
        }
    }

    private func handle(_ part: HTTPServerRequestPart) {
        switch (state, part) {
        case (.idle, .head(let head)):
            cancelTimer()
            if let problem = check(head) {
                reject(head: head, with: problem)
                return
            }
            if head.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(NIOAny(context.channel.allocator.buffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
            }
            state = .receiving(head: head, body: nil, receivedAt: .now())
            setDeadline(after: limits.requestTimeout, .requestTimedOut)

        case (.receiving(let head, var body, let receivedAt), .body(var chunk)):
            let total = (body?.readableBytes ?? 0) + chunk.readableBytes
            if total > limits.maxBodyBytes {
                reject(head: head, with: .bodyTooLarge(limit: limits.maxBodyBytes))
                return
            }
            state = .closing  // drop the old buffer reference so appending does not copy
            if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
            state = .receiving(head: head, body: body, receivedAt: receivedAt)

        case (.receiving(let head, let body, let receivedAt), .end):
            cancelTimer()
            let writer = ResponseWriter(
                connection: self, context: context,
                isHeadRequest: head.method == .HEAD, keepAlive: head.isKeepAlive && !isDraining
            )
            state = .responding(writer)
            responder.respond(to: ProxyRequest(head: head, body: body, receivedAt: receivedAt), writer: writer)

        case (.idle, .body), (.idle, .end), (.receiving, .head):
            // The decoder never produces these orders; treat them as a broken stream.
            closeWithError(.badRequest("malformed HTTP request"), head: nil)

        case (.responding, _), (.closing, _):
            break
        }
    }

    private func check(_ head: HTTPRequestHead) -> ProxyError? {
        var headerBytes = head.uri.utf8.count + 16
        for (name, value) in head.headers {
            headerBytes += name.utf8.count + value.utf8.count + 4
        }
        if headerBytes > limits.maxHeaderBytes {
            return .headersTooLarge(limit: limits.maxHeaderBytes)
        }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > limits.maxBodyBytes {
            return .bodyTooLarge(limit: limits.maxBodyBytes)
        }
        return nil
    }

    /// Answers a request that cannot be served and closes: the rest of its body is never read.
    private func reject(head: HTTPRequestHead, with error: ProxyError) {
        closeWithError(error, head: head)
    }

    private func closeWithError(_ error: ProxyError, head: HTTPRequestHead?) {
        cancelTimer()
        lingerBeforeClose = true
        let writer = ResponseWriter(connection: self, context: context, isHeadRequest: head?.method == .HEAD, keepAlive: false)
        state = .responding(writer)
        writer.send(error: error)
    }

    private func requestTimedOut() {
        guard case .receiving(let head, _, _) = state else { return }
        logger.debug("request timed out while receiving", metadata: ["uri": "\(head.uri)"])
        closeWithError(.requestTimeout("the request was not received completely within server.request_timeout"), head: head)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch state {
        case .idle, .receiving:
            if let parserError = error as? HTTPParserError {
                let answer: ProxyError = parserError == .headerOverflow
                    ? .headersTooLarge(limit: limits.maxHeaderBytes)
                    : .badRequest("malformed HTTP request: \(parserError)")
                closeWithError(answer, head: nil)
            } else {
                context.close(promise: nil)
            }
        case .responding, .closing:
            // A response is already on the wire; the connection cannot carry an error answer.
            context.close(promise: nil)
        }
    }

    // MARK: Called by ResponseWriter

    func responseEnded(keepAlive: Bool) {
        guard case .responding = state else { return }
        if !keepAlive || isDraining {
            state = .closing
            if lingerBeforeClose {
                lingerAndClose()
            } else {
                context.close(promise: nil)
            }
            return
        }
        state = .idle
        armIdleTimer()
        // Serve pipelined requests that arrived meanwhile, in order.
        while acceptsRequestParts, let part = queuedParts.popFirst() {
            handle(part)
        }
        guard acceptsRequestParts else { return }
        if readPending {
            readPending = false
            context.read()
        }
    }

    /// Idle or receiving: the next request part can be handled now rather than queued.
    private var acceptsRequestParts: Bool {
        switch state {
        case .idle, .receiving: return true
        case .responding, .closing: return false
        }
    }

    func abortConnection() {
        state = .closing
        context.close(promise: nil)
    }

    /// Completes when the channel is writable again (immediately when it is).
    func whenWritable() -> EventLoopFuture<Void> {
        if context.channel.isWritable { return context.eventLoop.makeSucceededVoidFuture() }
        let promise = context.eventLoop.makePromise(of: Void.self)
        writabilityWaiters.append(promise)
        return promise.futureResult
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            let waiters = writabilityWaiters
            writabilityWaiters = []
            for waiter in waiters { waiter.succeed() }
        }
        context.fireChannelWritabilityChanged()
    }

    private func failWritabilityWaiters() {
        let waiters = writabilityWaiters
        writabilityWaiters = []
        for waiter in waiters { waiter.fail(ChannelError.ioOnClosedChannel) }
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        // Hold reads while a response is in progress and a next request is already queued.
        if case .responding = state, !queuedParts.isEmpty {
            readPending = true
            return
        }
        context.read()
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is DrainConnectionEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        isDraining = true
        switch state {
        case .idle:
            state = .closing
            context.close(promise: nil)
        case .receiving, .responding, .closing:
            break  // the current response carries `connection: close` and ends the connection
        }
        promise?.succeed()
    }

    /// Closing a socket with unread input makes the kernel send a reset, which can destroy the
    /// answer before the client reads it. Close our side for writing, keep discarding what the
    /// client still sends for a moment, then close (nginx calls this lingering close).
    private func lingerAndClose() {
        context.close(mode: .output).assumeIsolated().whenComplete { [weak self] _ in
            guard let self, let context = self.context else { return }
            context.read()
            self.setDeadline(after: Self.lingerTime, .close)
        }
    }

    // MARK: Timers

    /// What happens when the connection's deadline passes.
    private enum DeadlineAction {
        /// Keep-alive connection left idle: close it.
        case closeIdle
        /// The request did not arrive in time: 408.
        case requestTimedOut
        /// End of a lingering close.
        case close
    }

    private func armIdleTimer() {
        setDeadline(after: limits.idleTimeout, .closeIdle)
    }

    /// Sets the connection's one deadline (a stored value; see `DeadlineWakeUp`).
    private func setDeadline(after delay: TimeAmount, _ action: DeadlineAction) {
        let now = NIODeadline.now()
        deadline = (now + delay, action)
        ensureWakeUp(by: now + delay, now: now)
    }

    /// No deadline while a response is produced (the upstream side has its own timeouts).
    private func cancelTimer() {
        deadline = nil
    }

    private func ensureWakeUp(by due: NIODeadline, now: NIODeadline) {
        guard let context, let target = wakeUp.target(by: due, now: now) else { return }
        wakeUp.schedule(at: target, on: context.eventLoop) { [weak self] in
            self?.deadlineCheck()
        }
    }

    private func deadlineCheck() {
        wakeUp.fired()
        guard let (due, action) = deadline else { return }
        let now = NIODeadline.now()
        if now < due {
            ensureWakeUp(by: due, now: now)
            return
        }
        deadline = nil
        switch action {
        case .closeIdle:
            guard case .idle = state else { return }
            state = .closing
            context?.close(promise: nil)
        case .requestTimedOut:
            requestTimedOut()
        case .close:
            context?.close(promise: nil)
        }
    }
}
