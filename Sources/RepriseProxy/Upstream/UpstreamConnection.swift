import NIOCore
import NIOHTTP1
import RepriseTLS

/// One upstream connection: writes a call's request, decodes its answer, and goes back to its
/// pool when the answer ended on a connection that stays open.
///
/// A thin runner: every decision (keep-alive, 1xx heads, read back-pressure, failures, the
/// total deadline, the read timeout, the idle rest) is `UpstreamConnectionStateMachine`'s. This
/// handler feeds it the channel's and the pool's events with the time and runs the actions it
/// returns; it keeps what touches NIO and the call (the context, the call in progress, the
/// wake-up for deadlines).
final class UpstreamConnection: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    /// Nothing after this handler writes; it writes its calls' requests as bytes.
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private weak var pool: UpstreamConnectionPool?
    private var context: ChannelHandlerContext?
    private var machine: UpstreamConnectionStateMachine
    /// The call in progress; taken out before it is finished or failed.
    private var call: UpstreamCall?
    /// Serves the machine's deadlines (total, read, idle rest).
    private var wakeUp: DeadlineWakeUp
    /// The decoder in front of this handler, told each request's method; nil in a pipeline fed
    /// with response parts already decoded (tests of the handler alone).
    private let responseDecoder: UpstreamResponseDecoder?

    /// `https://` upstreams: the TLS handshake; the connection serves calls once it succeeded.
    let tlsHandshake: EventLoopFuture<TLSClientHandshakeCompleted>?

    init(
        pool: UpstreamConnectionPool?, readTimeout: TimeAmount, tlsHandshake: EventLoopFuture<TLSClientHandshakeCompleted>?,
        responseDecoder: UpstreamResponseDecoder?
    ) {
        self.pool = pool
        self.responseDecoder = responseDecoder
        self.tlsHandshake = tlsHandshake
        self.machine = UpstreamConnectionStateMachine(readTimeout: readTimeout)
        self.wakeUp = DeadlineWakeUp(maxAhead: min(readTimeout, UpstreamConnectionPool.idleTimeout))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        wakeUp.cancel()
        self.context = nil
    }

    // MARK: Called by the pool and the call

    func start(_ call: UpstreamCall) {
        guard let context else {
            call.fail(.remoteClosed)
            return
        }
        let now = NIODeadline.now()
        // Every request asks to keep the connection (`UpstreamRequest`); the answer decides.
        switch machine.callStarted(requestKeepAlive: true, deadline: call.deadline, now: now) {
        case .sendRequest(let wakeUpBy):
            self.call = call
            call.connection = self
            responseDecoder?.expectAnswer(to: call.request.method)
            // Head and body in one flush: one `writev` (one TLS record for `https://`).
            if let body = call.request.body, body.readableBytes > 0 {
                context.write(wrapOutboundOut(call.request.head), promise: nil)
                context.writeAndFlush(wrapOutboundOut(body), promise: nil)
            } else {
                context.writeAndFlush(wrapOutboundOut(call.request.head), promise: nil)
            }
            ensureWakeUp(by: wakeUpBy, now: now)
        case .refuseCall(let error):
            call.fail(error)
        case let other:
            run(other, now: now)
        }
    }

    func restUntil(_ deadline: NIODeadline) {
        run(machine.restRequested(until: deadline), now: nil)
    }

    /// The call no longer wants its answer: the connection cannot be reused mid-answer.
    func abandon(_ abandoned: UpstreamCall) {
        guard call === abandoned else { return }
        run(machine.callAbandoned(), now: nil)
    }

    func close() {
        run(machine.closeRequested(), now: nil)
    }

    // MARK: Channel events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now()
        run(machine.responsePartReceived(unwrapInboundIn(data), now: now), now: now)
    }

    func read(context: ChannelHandlerContext) {
        run(machine.readRequested(), now: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        wakeUp.cancel()
        run(machine.channelInactive(), now: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        run(machine.errorCaught(error), now: nil)
    }

    // MARK: Running actions

    /// Runs one action. `now` is the time the event was fed with; nil for events that take no
    /// time (the clock is read if one arms a wake-up).
    private func run(_ action: UpstreamConnectionStateMachine.Action, now: NIODeadline?) {
        switch action {
        case .none:
            break
        case .sendRequest, .refuseCall:
            assertionFailure("decided only when a call starts, and run there")
        case .armWakeUp(let due):
            ensureWakeUp(by: due, now: now ?? .now())
        case .forwardHead(let head):
            call?.sink?.upstreamHead(head)
        case .forwardBodyPart(let part):
            guard let sink = call?.sink else {
                run(machine.bodyPartTaken(), now: nil)
                return
            }
            // A future that already succeeded runs the callback right here: nothing pauses then.
            sink.upstreamBody(part).assumeIsolated().whenComplete { [weak self] _ in
                guard let self else { return }
                self.run(self.machine.bodyPartTaken(), now: nil)
            }
        case .read:
            context?.read()
        case .releaseAndFinishCall:
            let ended = takeCall()
            if let pool {
                // May start the next call on this connection before `ended` finishes.
                pool.release(self)
            } else {
                run(machine.closeRequested(), now: nil)
            }
            ended?.finish()
        case .closeAndFinishCall:
            let ended = takeCall()
            context?.close(promise: nil)
            ended?.finish()
        case .forgetCallAndClose:
            call = nil
            context?.close(promise: nil)
        case .closeAndFailCall(let error):
            let failed = takeCall()
            context?.close(promise: nil)
            failed?.fail(error)
        case .close:
            context?.close(promise: nil)
        case .reportClosed:
            pool?.connectionClosed(self)
        case .reportClosedAndFailCall(let error):
            let failed = takeCall()
            pool?.connectionClosed(self)
            failed?.fail(error)
        }
    }

    private func takeCall() -> UpstreamCall? {
        defer { call = nil }
        return call
    }

    // MARK: Deadlines

    private func ensureWakeUp(by due: NIODeadline, now: NIODeadline) {
        guard let context, let target = wakeUp.target(by: due, now: now) else { return }
        wakeUp.schedule(at: target, on: context.eventLoop) { [weak self] in
            self?.deadlineWakeUp()
        }
    }

    /// One wake-up serves the total deadline, the read timeout and the idle rest: the machine
    /// checks which passed and asks for the next.
    private func deadlineWakeUp() {
        wakeUp.fired()
        let now = NIODeadline.now()
        run(machine.wakeUpFired(now: now), now: now)
    }
}
