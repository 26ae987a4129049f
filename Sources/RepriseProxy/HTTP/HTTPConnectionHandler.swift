import Logging
import NIOCore
import NIOHTTP1
import RepriseTLS

/// One client connection: assembles requests from the decoder, enforces the limits, hands each
/// complete request to the responder and serializes responses in request order.
///
/// Pipelining: while a response is in progress, the parts of following requests are queued and
/// reads are held back, so a client that pipelines cannot make the proxy buffer without bound.
/// A queued request starts only while the channel is writable: a client that pipelines and never
/// reads its answers stops being read once about one high-water mark of answers waits for it
/// (answers written without an upstream, hits and `/healthz`, have no other back-pressure).
/// Queued requests are started by a loop, not by recursion, however many are answered at once.
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
    /// A response ended while the channel was not writable: the next request waits (queued,
    /// reads held) until `channelWritabilityChanged` says the client took its answers.
    private var waitingForWritability = false
    /// Set while `startQueuedRequests` runs, so a response that ends inside it (a hit answered
    /// at once) returns to that loop instead of nesting another one.
    private var startingQueuedRequests = false
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

    /// Set for a connection over `server.max_connections`: it is answered 503 and closed.
    private let refusal: ConnectionRefusal?

    init(responder: RequestResponder, limits: ConnectionLimits, logger: Logger, refusal: ConnectionRefusal? = nil) {
        self.responder = responder
        self.limits = limits
        self.refusal = refusal
        self.wakeUp = DeadlineWakeUp(maxAhead: min(limits.idleTimeout, limits.requestTimeout))
        self.logger = logger
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start() }
    }

    func channelActive(context: ChannelHandlerContext) {
        start()
        context.fireChannelActive()
    }

    private func start() {
        guard let refusal else {
            armIdleTimer()
            return
        }
        if !refusal.afterTLSHandshake { refuse(refusal) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let refusal, event is TLSHandshakeCompleted { refuse(refusal) }
        context.fireUserInboundEventTriggered(event)
    }

    private func refuse(_ refusal: ConnectionRefusal) {
        guard case .idle = state else { return }
        closeWithError(refusal.error, head: nil, extraHeaders: ["retry-after": "1"])
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
        case .idle where waitingForWritability || !queuedParts.isEmpty:
            queuedParts.append(part)
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
                connection: self, context: context, isHeadRequest: head.method == .HEAD,
                isHTTP10: head.version == .http1_0, keepAlive: head.isKeepAlive && !isDraining
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
        // `first(name:)`, not the subscript (it builds an array per request): the HTTP parser
        // already refuses a request with two Content-Length values.
        if let length = head.headers.first(name: "content-length"), Self.declaresMoreThan(limits.maxBodyBytes, contentLength: length) {
            return .bodyTooLarge(limit: limits.maxBodyBytes)
        }
        return nil
    }

    /// True when `value` is a length above `limit`, without arithmetic that can overflow: a
    /// value that is not a decimal number is left to the HTTP parser, which refuses it.
    static func declaresMoreThan(_ limit: Int, contentLength value: String) -> Bool {
        var length = 0
        var overflowed = false
        for byte in value.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return false }
            let (times10, overflowA) = length.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            overflowed = overflowed || overflowA || overflowB
            length = next
        }
        return !value.isEmpty && (overflowed || length > limit)
    }

    /// Answers a request that cannot be served and closes: the rest of its body is never read.
    private func reject(head: HTTPRequestHead, with error: ProxyError) {
        closeWithError(error, head: head)
    }

    private func closeWithError(_ error: ProxyError, head: HTTPRequestHead?, extraHeaders: HTTPHeaders = HTTPHeaders()) {
        cancelTimer()
        lingerBeforeClose = true
        let writer = ResponseWriter(
            connection: self, context: context, isHeadRequest: head?.method == .HEAD,
            isHTTP10: head?.version == .http1_0, keepAlive: false
        )
        state = .responding(writer)
        writer.send(error: error, extraHeaders: extraHeaders)
    }

    private func requestTimedOut() {
        guard case .receiving(let head, _, _) = state else { return }
        // The path only: a query string can carry a credential (`?api_key=`).
        logger.debug("request timed out while receiving", metadata: ["path": "\(head.uri.prefix { $0 != "?" && $0 != "#" })"])
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
        if !context.channel.isWritable { waitingForWritability = true }
        startQueuedRequests()
    }

    /// Serves pipelined requests that arrived meanwhile, in order, while the channel is writable;
    /// then resumes reading. Iterative: a response that ends inside the loop (a hit) comes back
    /// here through `responseEnded`, finds the loop running and returns to it.
    private func startQueuedRequests() {
        guard !startingQueuedRequests else { return }
        startingQueuedRequests = true
        defer { startingQueuedRequests = false }
        while !waitingForWritability, acceptsRequestParts, let part = queuedParts.popFirst() {
            handle(part)
        }
        guard !waitingForWritability, acceptsRequestParts, queuedParts.isEmpty, readPending else { return }
        readPending = false
        context.read()
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
            if waitingForWritability {
                waitingForWritability = false
                startQueuedRequests()
            }
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
        // Hold reads while a next request is already queued, or while the client has not taken
        // the answers already written.
        if waitingForWritability || !queuedParts.isEmpty {
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
