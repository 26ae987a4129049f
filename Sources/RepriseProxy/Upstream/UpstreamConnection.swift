import NIOCore
import NIOHTTP1
import RepriseTLS

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

    /// `https://` upstreams: the TLS handshake; the connection serves calls once it succeeded.
    let tlsHandshake: EventLoopFuture<TLSClientHandshakeCompleted>?

    init(pool: UpstreamConnectionPool?, readTimeout: TimeAmount, tlsHandshake: EventLoopFuture<TLSClientHandshakeCompleted>?) {
        self.pool = pool
        self.readTimeout = readTimeout
        self.tlsHandshake = tlsHandshake
        self.wakeUp = DeadlineWakeUp(maxAhead: min(readTimeout, UpstreamConnectionPool.idleTimeout))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        wakeUp.cancel()
        self.context = nil
    }

    func start(_ call: UpstreamCall) {
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

    func restUntil(_ deadline: NIODeadline) {
        restingUntil = deadline
        ensureWakeUp(by: deadline, now: .now())
    }

    /// The call no longer wants its answer: the connection cannot be reused mid-answer.
    func abandon(_ abandoned: UpstreamCall) {
        guard call === abandoned else { return }
        call = nil
        close()
    }

    func close() {
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
