import NIOCore
import NIOHTTP1
import NIOPosix

/// Receives one upstream call's answer, on the pool's event loop. After `upstreamEnd` or
/// `upstreamFailed` nothing more is called.
protocol UpstreamResponseSink: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead)
    /// The returned future completes when the next part may be read (back-pressure).
    func upstreamBody(_ part: ByteBuffer) -> EventLoopFuture<Void>
    func upstreamEnd()
    func upstreamFailed(_ error: UpstreamCallError)
}

/// Why a call to a plain-HTTP upstream failed.
enum UpstreamCallError: Error, CustomStringConvertible {
    case connectFailed(String)
    case connectTimeout
    /// No byte for `upstream.read_timeout` while the answer was awaited or read.
    case readTimeout
    /// `upstream.total_timeout` passed.
    case deadlineExceeded
    /// The upstream closed the connection before the answer ended.
    case remoteClosed
    case cancelled
    case badResponse(String)

    var description: String {
        switch self {
        case .connectFailed(let reason): "cannot connect to the upstream: \(reason)"
        case .connectTimeout: "no connection within upstream.connect_timeout"
        case .readTimeout: "no data within upstream.read_timeout"
        case .deadlineExceeded: "no complete answer within upstream.total_timeout"
        case .remoteClosed: "the upstream closed the connection before answering"
        case .cancelled: "cancelled"
        case .badResponse(let reason): "the upstream's answer is not valid HTTP/1.1: \(reason)"
        }
    }
}

/// A request as it goes to the upstream: head (target, `Host`, framing set) and whole body.
struct UpstreamRequest {
    var head: HTTPRequestHead
    var body: ByteBuffer?
}

/// What an exchange holds of an attempt in flight, whichever client runs it.
protocol UpstreamCallHandle: AnyObject {
    func cancel()
}

/// One call in flight (or waiting for a connection); `cancel()` stops it.
final class UpstreamCall: UpstreamCallHandle {
    fileprivate let request: UpstreamRequest
    fileprivate let deadline: NIODeadline
    /// Held until the call ends (then released, which breaks the sink → exchange → call cycle).
    fileprivate private(set) var sink: UpstreamResponseSink?
    fileprivate var connection: UpstreamConnection?
    fileprivate weak var pool: UpstreamConnectionPool?

    fileprivate init(request: UpstreamRequest, deadline: NIODeadline, sink: UpstreamResponseSink, pool: UpstreamConnectionPool) {
        self.request = request
        self.deadline = deadline
        self.sink = sink
        self.pool = pool
    }

    var isOver: Bool { sink == nil }

    /// Ends the call; its connection (if the answer was not complete) is closed, because the
    /// rest of that answer would otherwise be read as the next one's.
    func cancel() {
        guard !isOver else { return }
        if let connection {
            connection.abandon(self)
        } else {
            pool?.removeWaiter(self)
        }
        fail(.cancelled)
    }

    fileprivate func fail(_ error: UpstreamCallError) {
        guard let sink else { return }
        self.sink = nil
        connection = nil
        sink.upstreamFailed(error)
    }

    /// Called once the answer ended; the sink is released first so nothing reaches it twice.
    fileprivate func finish() {
        guard let sink else { return }
        self.sink = nil
        connection = nil
        sink.upstreamEnd()
    }
}

/// Keep-alive HTTP/1.1 connections from one event loop to one plain-HTTP upstream.
///
/// Why our own instead of AsyncHTTPClient for `http://` upstreams: a miss through AHC cost
/// ~300 µs of event-loop CPU (perf: task, request bag and pool state machines, a Foundation URL
/// parse, per-request timers), against ~50 µs for a whole cache hit. Here a request is one
/// write of head and body and one flush on a pooled connection of the same loop; the answer is
/// decoded by NIO's HTTP decoder and handed on part by part with back-pressure.
///
/// Not thread-safe: used on its event loop only (`UpstreamClient` keeps one per loop).
final class UpstreamConnectionPool {
    let eventLoop: EventLoop
    private let host: String
    private let port: Int
    private let hostHeader: String
    private let maxConnections: Int
    private let connectTimeout: TimeAmount
    private let readTimeout: TimeAmount
    fileprivate static let idleTimeout = TimeAmount.seconds(60)

    private var idle: [UpstreamConnection] = []
    private var waiters = CircularBuffer<UpstreamCall>()
    /// Connections open or being opened.
    private var openCount = 0
    private var isShutDown = false

    init(eventLoop: EventLoop, host: String, port: Int, hostHeader: String, maxConnections: Int,
         connectTimeout: TimeAmount, readTimeout: TimeAmount) {
        self.eventLoop = eventLoop
        self.host = host
        self.port = port
        self.hostHeader = hostHeader
        self.maxConnections = maxConnections
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }

    /// Sends `request` and reports its answer to `sink`. Call on `eventLoop`.
    func execute(_ request: UpstreamRequest, deadline: NIODeadline, sink: UpstreamResponseSink) -> UpstreamCall {
        var request = request
        request.head.headers.replaceOrAdd(name: "host", value: hostHeader)
        let call = UpstreamCall(request: request, deadline: deadline, sink: sink, pool: self)
        if isShutDown {
            call.fail(.connectFailed("the proxy is shutting down"))
        } else if let connection = idle.popLast() {
            connection.start(call)
        } else if openCount < maxConnections {
            connect(for: call)
        } else {
            waiters.append(call)
        }
        return call
    }

    fileprivate func removeWaiter(_ call: UpstreamCall) {
        if let index = waiters.firstIndex(where: { $0 === call }) {
            waiters.remove(at: index)
        }
    }

    private func connect(for call: UpstreamCall) {
        openCount += 1
        let readTimeout = self.readTimeout
        // The bootstrap's group is this one loop, so the initializer runs here too.
        let pool = NIOLoopBound(self, eventLoop: eventLoop)
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(leftOverBytesStrategy: .forwardBytes)
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnection(pool: pool.value, readTimeout: readTimeout))
                }
            }
            .connect(host: host, port: port)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard let connection = try? channel.pipeline.syncOperations.handler(type: UpstreamConnection.self) else {
                        channel.close(promise: nil)
                        connectionClosed()
                        call.fail(.connectFailed("connection set-up failed"))
                        return
                    }
                    if call.isOver {
                        release(connection)
                    } else {
                        connection.start(call)
                    }
                case .failure(let error):
                    openCount -= 1
                    if case ChannelError.connectTimeout = error {
                        call.fail(.connectTimeout)
                    } else {
                        call.fail(.connectFailed("\(error)"))
                    }
                    serveWaiters()
                }
            }
    }

    /// A connection whose answer ended cleanly takes the next waiting call, or rests.
    fileprivate func release(_ connection: UpstreamConnection) {
        if isShutDown {
            connection.close()
            return
        }
        while let next = waiters.popFirst() {
            if next.isOver { continue }
            connection.start(next)
            return
        }
        idle.append(connection)
        connection.restUntil(.now() + Self.idleTimeout)
    }

    /// A connection closed (by either side, at any time).
    fileprivate func connectionClosed(_ connection: UpstreamConnection? = nil) {
        openCount -= 1
        if let connection, let index = idle.firstIndex(where: { $0 === connection }) {
            idle.remove(at: index)
        }
        serveWaiters()
    }

    private func serveWaiters() {
        while openCount < maxConnections, let next = waiters.popFirst() {
            if next.isOver { continue }
            connect(for: next)
        }
    }

    /// Closes idle connections and refuses new calls (calls in flight go on).
    func shutdown() {
        isShutDown = true
        let resting = idle
        idle.removeAll()
        for connection in resting { connection.close() }
        while let waiter = waiters.popFirst() { waiter.fail(.connectFailed("the proxy is shutting down")) }
    }
}

/// One upstream connection: writes a call's request, decodes its answer, and goes back to its
/// pool when the answer ended on a connection that stays open.
final class UpstreamConnection: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private weak var pool: UpstreamConnectionPool?
    private let readTimeout: TimeAmount
    private var context: ChannelHandlerContext?
    private var call: UpstreamCall?
    private var headReceived = false
    private var keepAlive = true
    /// A read the channel asked for while the client could not take more.
    private var readPaused = false
    private var readPending = false
    private var lastRead = NIODeadline.now()
    /// Until when an idle connection is kept.
    private var restingUntil: NIODeadline?
    /// Checks the total deadline, the read timeout and the idle rest.
    private var wakeUp: DeadlineWakeUp
    private var closed = false

    fileprivate init(pool: UpstreamConnectionPool?, readTimeout: TimeAmount) {
        self.pool = pool
        self.readTimeout = readTimeout
        self.wakeUp = DeadlineWakeUp(maxAhead: min(readTimeout, UpstreamConnectionPool.idleTimeout))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        wakeUp.cancel()
        self.context = nil
    }

    fileprivate func start(_ call: UpstreamCall) {
        guard let context, !closed else {
            call.fail(.remoteClosed)
            return
        }
        restingUntil = nil
        self.call = call
        call.connection = self
        headReceived = false
        keepAlive = call.request.head.isKeepAlive
        lastRead = .now()
        context.write(wrapOutboundOut(.head(call.request.head)), promise: nil)
        if let body = call.request.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        ensureWakeUp(by: min(call.deadline, lastRead + readTimeout), now: lastRead)
    }

    fileprivate func restUntil(_ deadline: NIODeadline) {
        restingUntil = deadline
        ensureWakeUp(by: deadline, now: .now())
    }

    /// The call no longer wants its answer: the connection cannot be reused mid-answer.
    fileprivate func abandon(_ abandoned: UpstreamCall) {
        guard call === abandoned else { return }
        call = nil
        close()
    }

    fileprivate func close() {
        guard !closed else { return }
        context?.close(promise: nil)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        guard let call else { return }  // an answer nobody asked for: the connection closes below
        switch unwrapInboundIn(data) {
        case .head(let head):
            // 1xx heads (100 Continue, 103 Early Hints) precede the real one.
            if head.status.code >= 100 && head.status.code < 200 && head.status.code != 101 { return }
            headReceived = true
            keepAlive = keepAlive && head.isKeepAlive
            call.sink?.upstreamHead(head)
        case .body(let part):
            guard let sink = call.sink else { return }
            // Reads pause until the client took the part; a future that already succeeded runs
            // the callback right here, so nothing pauses then.
            readPaused = true
            sink.upstreamBody(part).assumeIsolated().whenComplete { [weak self] _ in self?.resumeReading() }
        case .end:
            self.call = nil
            if keepAlive && !closed, let pool {
                pool.release(self)
            } else {
                close()
            }
            call.finish()
        }
    }

    private func resumeReading() {
        readPaused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if readPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        wakeUp.cancel()
        pool?.connectionClosed(self)
        if let call {
            self.call = nil
            call.fail(.remoteClosed)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let call {
            self.call = nil
            call.fail(error is HTTPParserError ? .badResponse("\(error)") : .remoteClosed)
        }
        close()
    }

    // MARK: Timeouts

    private func ensureWakeUp(by due: NIODeadline, now: NIODeadline) {
        guard let context, let target = wakeUp.target(by: due, now: now) else { return }
        wakeUp.schedule(at: target, on: context.eventLoop) { [weak self] in
            self?.timeoutCheck()
        }
    }

    /// One wake-up serves the total deadline, the read timeout and the idle rest: it checks
    /// which passed and re-arms for the next.
    private func timeoutCheck() {
        wakeUp.fired()
        let now = NIODeadline.now()
        if let call {
            if now >= call.deadline {
                self.call = nil
                close()
                call.fail(.deadlineExceeded)
            } else if now >= lastRead + readTimeout {
                self.call = nil
                close()
                call.fail(.readTimeout)
            } else {
                ensureWakeUp(by: min(call.deadline, lastRead + readTimeout), now: now)
            }
        } else if let restingUntil {
            if now >= restingUntil {
                close()
            } else {
                ensureWakeUp(by: restingUntil, now: now)
            }
        }
    }
}
