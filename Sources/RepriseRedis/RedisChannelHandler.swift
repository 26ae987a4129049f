import Logging
import NIOCore

/// A command on its way to the wire with who waits for its reply.
struct RedisRequest {
    var command: RedisCommand
    var receiver: RedisReplyReceiver
    var deadline: NIODeadline
}

/// Writes commands (already in RESP form) and answers them in FIFO order from the replies hiredis parses.
///
/// One receiver per command. A command that timed out keeps its place in the queue (its reply
/// will still come, and is then dropped), so later replies stay matched to their commands. On
/// a protocol error, an error or close, every pending command fails and the channel closes.
///
/// Timeouts use one timer per connection, armed at the earliest pending deadline, rather than
/// a scheduled task per command (NIO cancels scheduled tasks in linear time, which deep
/// pipelines would pay per reply).
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        /// `nil` once the command timed out: its reply is dropped when it comes.
        var receiver: RedisReplyReceiver?
        var deadline: NIODeadline
    }

    private let limits: RedisReplyLimits
    private let logger: Logger
    private var parser: RedisReplyParser?
    private var pending = CircularBuffer<Pending>(initialCapacity: 64)
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var closedError: RedisError?
    /// Reused for every `GET` written (see `write`).
    private var getBuffer: ByteBuffer?

    init(limits: RedisReplyLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    var inFlight: Int { pending.count }

    func handlerAdded(context: ChannelHandlerContext) {
        parser = RedisReplyParser(limits: limits, allocator: context.channel.allocator)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(RedisError(.connectionClosed, "the Redis connection handler was removed"))
        parser = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise writePromise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let closedError {
            request.receiver.fail(closedError)
            writePromise?.fail(closedError)
            return
        }
        pending.append(Pending(receiver: request.receiver, deadline: request.deadline))
        if let armed = timerDeadline, armed <= request.deadline {
            // The armed timer fires first; it re-arms for this command if needed.
        } else {
            timer?.cancel()
            armTimer(at: request.deadline, eventLoop: context.eventLoop)
        }
        switch request.command.form {
        case .resp(let wire):
            // Already in its RESP form: the buffer goes out as it is.
            context.write(wrapOutboundOut(wire), promise: writePromise)
        case .get:
            // Written into the one buffer this connection keeps for lookups: unique again once
            // the socket took the previous one (a lone lookup is flushed at once), so cleared
            // and refilled in place; still queued (pipelined), the clear copies it away first.
            if getBuffer == nil { getBuffer = context.channel.allocator.buffer(capacity: 256) }
            getBuffer!.clear()
            RESPFormatter.write(request.command, into: &getBuffer!)
            context.write(wrapOutboundOut(getBuffer!), promise: writePromise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard let parser else { return }
        do throws(RedisError) {
            var unexpected = 0
            try parser.feed(bytes) { reply in
                if !self.answer(reply) { unexpected += 1 }
            }
            if unexpected > 0 {
                throw RedisError(.protocolError, "\(unexpected) replies arrived with no command waiting for them")
            }
        } catch {
            logger.warning("Redis protocol error, closing the connection", metadata: [RedisLogKeys.error: "\(error.message)"])
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError(.connectionClosed, "the Redis connection closed with \(pending.count) commands in flight"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(RedisError(.connectionClosed, "the Redis connection failed: \(error)"))
        context.close(promise: nil)
    }

    /// Completes the oldest command; `false` when none waits (the stream is out of step).
    private func answer(_ reply: RedisReply) -> Bool {
        guard let head = pending.popFirst() else { return false }
        if case .error(let message) = reply {
            head.receiver?.fail(RedisError(.serverError, message))
        } else {
            head.receiver?.succeed(reply)
        }
        return true
    }

    private func armTimer(at deadline: NIODeadline, eventLoop: any EventLoop) {
        let loopBoundSelf = NIOLoopBound(self, eventLoop: eventLoop)
        timerDeadline = deadline
        timer = eventLoop.scheduleTask(deadline: deadline) {
            loopBoundSelf.value.timerFired(eventLoop: eventLoop)
        }
    }

    /// Fails every command past its deadline, then re-arms at the earliest deadline left.
    private func timerFired(eventLoop: any EventLoop) {
        timer = nil
        timerDeadline = nil
        let now = NIODeadline.now()
        var earliest: NIODeadline?
        for index in pending.indices {
            guard let receiver = pending[index].receiver else { continue }
            let deadline = pending[index].deadline
            if deadline <= now {
                pending[index].receiver = nil
                receiver.fail(RedisError(.commandTimeout, "no reply within the command timeout"))
            } else if earliest.map({ deadline < $0 }) ?? true {
                earliest = deadline
            }
        }
        if let earliest, closedError == nil { armTimer(at: earliest, eventLoop: eventLoop) }
    }

    private func failAll(_ error: RedisError) {
        if closedError == nil { closedError = error }
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        while let entry = pending.popFirst() {
            entry.receiver?.fail(error)
        }
    }
}
