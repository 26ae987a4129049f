import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A small pool of pipelined Redis connections spread over an event loop group.
///
/// A command goes to a connection on the caller's event loop when there is one (no thread
/// hop), otherwise round-robin. Its future completes on that connection's event loop.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let slots: [RedisConnectionSlot]
    private let nextSlot = NIOLockedValueBox(0)
    private let logger: Logger

    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger = Logger(label: "reprise.redis")
    ) {
        self.configuration = configuration
        self.logger = logger
        self.slots = (0..<configuration.poolSize).map { _ in
            RedisConnectionSlot(eventLoop: eventLoopGroup.next(), configuration: configuration, logger: logger)
        }
    }

    /// Sends one command; the future fails with `RedisError` (a top-level error reply is
    /// `.serverError` carrying the server's message).
    public func send(_ command: RedisCommand) -> EventLoopFuture<RedisReply> {
        send(command, timeout: configuration.commandTimeout)
    }

    /// Sends one command that must be answered within `timeout` instead of the configured
    /// command timeout: waiting for a connection counts too. Past it the command fails with
    /// `.commandTimeout` and its late reply, if any, is dropped.
    public func send(_ command: RedisCommand, timeout: TimeAmount) -> EventLoopFuture<RedisReply> {
        pickSlot().send(command, deadline: NIODeadline.now() + timeout)
    }

    /// As `send(_:timeout:)`, telling `onReply` the outcome on the event loop of the connection
    /// that got the reply (the caller's own when it has a pooled connection) instead of through
    /// a future: a cache lookup makes no future per command.
    public func send(_ command: RedisCommand, timeout: TimeAmount, onReply: @escaping @Sendable (Result<RedisReply, any Error>) -> Void) {
        pickSlot().send(command, deadline: NIODeadline.now() + timeout, to: .function(onReply))
    }

    /// Sends one command given as its arguments, name first.
    public func send(_ arguments: [ByteBuffer]) -> EventLoopFuture<RedisReply> {
        send(RedisCommand(arguments: arguments))
    }

    /// Opens every pooled connection now (instead of on first use).
    public func connect() -> EventLoopFuture<Void> {
        let loop = slots[0].eventLoop
        return EventLoopFuture.andAllSucceed(slots.map { $0.connect() }, on: loop)
    }

    /// Closes every connection; later commands fail with `.shutdown`.
    public func shutdown() -> EventLoopFuture<Void> {
        let loop = slots[0].eventLoop
        return EventLoopFuture.andAllComplete(slots.map { $0.shutdown() }, on: loop)
    }

    /// An event loop of the pool (for futures that do not come from a command).
    public var eventLoop: any EventLoop { pickSlot().eventLoop }

    private func pickSlot() -> RedisConnectionSlot {
        for slot in slots where slot.eventLoop.inEventLoop {
            return slot
        }
        let index = nextSlot.withLockedValue { next in
            defer { next = (next + 1) % slots.count }
            return next
        }
        return slots[index]
    }
}
