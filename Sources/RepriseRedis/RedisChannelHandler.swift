import Logging
import NIOCore

/// A command on its way to the wire with the promise of its reply.
struct RedisRequest {
    var command: RedisCommand
    var promise: EventLoopPromise<RedisReply>
    var deadline: NIODeadline
}

/// Writes commands as RESP and answers them in FIFO order from the replies hiredis parses.
///
/// One promise per command. A command that timed out keeps its place in the queue (its reply
/// will still come, and is then dropped), so later replies stay matched to their commands. On
/// a protocol error, an error or close, every pending promise fails and the channel closes.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var promise: EventLoopPromise<RedisReply>?
        var timeout: Scheduled<Void>?
        var id: UInt64
    }

    private let limits: RedisReplyLimits
    private let logger: Logger
    private var parser: RedisReplyParser?
    private var pending = CircularBuffer<Pending>(initialCapacity: 64)
    private var nextID: UInt64 = 0
    /// Ids of commands whose promise was already failed by their timeout.
    private var timedOut: Set<UInt64> = []
    private var closedError: RedisError?

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
            request.promise.fail(closedError)
            writePromise?.fail(closedError)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: request.command.storage.readableBytes + 16 * request.command.argumentCount)
        do {
            try RESPFormatter.write(request.command, into: &buffer)
        } catch {
            request.promise.fail(error)
            writePromise?.fail(error)
            return
        }
        let id = nextID
        nextID &+= 1
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        let timeout = context.eventLoop.scheduleTask(deadline: request.deadline) {
            loopBoundSelf.value.commandTimedOut(id: id)
        }
        pending.append(Pending(promise: request.promise, timeout: timeout, id: id))
        context.write(wrapOutboundOut(buffer), promise: writePromise)
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
        if timedOut.remove(head.id) != nil { return true }
        head.timeout?.cancel()
        if case .error(let message) = reply {
            head.promise?.fail(RedisError(.serverError, message))
        } else {
            head.promise?.succeed(reply)
        }
        return true
    }

    private func commandTimedOut(id: UInt64) {
        // Ids are handed out in order and leave from the front, so the offset is the index.
        guard let first = pending.first, id >= first.id, id - first.id < UInt64(pending.count) else { return }
        let index = pending.index(pending.startIndex, offsetBy: Int(id - first.id))
        guard let promise = pending[index].promise else { return }
        pending[index].promise = nil
        pending[index].timeout = nil
        timedOut.insert(id)
        promise.fail(RedisError(.commandTimeout, "no reply within the command timeout"))
    }

    private func failAll(_ error: RedisError) {
        if closedError == nil { closedError = error }
        timedOut.removeAll()
        while let entry = pending.popFirst() {
            entry.timeout?.cancel()
            entry.promise?.fail(error)
        }
    }
}
