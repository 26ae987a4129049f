import Logging
import NIOCore
import NIOPosix

/// One pooled connection, pinned to one event loop: connects on demand (AUTH, SELECT),
/// reconnects after a close, and backs off exponentially after failed connects (while it
/// backs off, commands fail fast with `.connectionUnavailable` instead of waiting).
///
/// All state lives in a loop-bound box and is touched on `eventLoop` only.
final class RedisConnectionSlot: Sendable {
    private enum Connection {
        case idle
        case connecting(EventLoopFuture<Void>)
        case connected(Channel, RedisChannelHandler)
        case shutdown
    }

    private struct State {
        var connection: Connection = .idle
        /// Consecutive failed connects; drives the backoff.
        var failures = 0
        var retryAt: NIODeadline?
        var lastError: RedisError?
        var flushScheduled = false
    }

    let eventLoop: any EventLoop
    private let configuration: RedisConfiguration
    private let logger: Logger
    private let state: NIOLoopBoundBox<State>

    init(eventLoop: any EventLoop, configuration: RedisConfiguration, logger: Logger) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        self.state = NIOLoopBoundBox.makeBoxSendingValue(State(), eventLoop: eventLoop)
    }

    func send(_ command: RedisCommand, deadline: NIODeadline) -> EventLoopFuture<RedisReply> {
        let promise = eventLoop.makePromise(of: RedisReply.self)
        send(command, deadline: deadline, to: .promise(promise))
        return promise.futureResult
    }

    /// Sends `command`; `receiver` is told its outcome on this slot's loop.
    func send(_ command: RedisCommand, deadline: NIODeadline, to receiver: RedisReplyReceiver) {
        if eventLoop.inEventLoop {
            sendOnLoop(command, deadline: deadline, to: receiver)
        } else {
            eventLoop.execute { self.sendOnLoop(command, deadline: deadline, to: receiver) }
        }
    }

    /// Connects now unless connected, connecting, or backing off.
    func connect() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            switch self.state.value.connection {
            case .connected: return self.eventLoop.makeSucceededVoidFuture()
            case .connecting(let future): return future
            case .shutdown: return self.eventLoop.makeFailedFuture(RedisError(.shutdown, "the Redis client is shut down"))
            case .idle: return self.startConnecting()
            }
        }
    }

    func shutdown() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            let previous = self.state.value.connection
            self.state.value.connection = .shutdown
            switch previous {
            case .connected(let channel, _):
                return channel.close().recover { _ in }
            case .connecting(let future):
                return future.recover { _ in }
            case .idle, .shutdown:
                return self.eventLoop.makeSucceededVoidFuture()
            }
        }
    }

    private func sendOnLoop(_ command: RedisCommand, deadline: NIODeadline, to receiver: RedisReplyReceiver) {
        switch state.value.connection {
        case .connected(let channel, let handler):
            guard handler.inFlight < configuration.maxInFlightPerConnection else {
                receiver.fail(RedisError(
                    .tooManyInFlight,
                    "\(handler.inFlight) commands in flight on one connection (limit \(configuration.maxInFlightPerConnection))"
                ))
                return
            }
            let request = RedisRequest(command: command, receiver: receiver, deadline: deadline)
            if handler.inFlight == 0 && !state.value.flushScheduled {
                // A lone command (nothing in flight, nothing waiting for the tick's flush) goes
                // out now: Redis answers while this loop finishes its tick, instead of after.
                channel.writeAndFlush(request, promise: nil)
            } else {
                channel.write(request, promise: nil)
                scheduleFlush(channel)
            }
        case .connecting(let future):
            bounded(future.flatMap { self.send(command, deadline: deadline) }, by: deadline).whenComplete(receiver.complete)
        case .idle:
            if let retryAt = state.value.retryAt, NIODeadline.now() < retryAt {
                let reason = state.value.lastError.map { "\($0.code.rawValue): \($0.message)" } ?? "not connected"
                receiver.fail(RedisError(
                    .connectionUnavailable,
                    "Redis reconnect backing off after \(state.value.failures) failed connects (\(reason))"
                ))
                return
            }
            bounded(startConnecting().flatMap { self.send(command, deadline: deadline) }, by: deadline).whenComplete(receiver.complete)
        case .shutdown:
            receiver.fail(RedisError(.shutdown, "the Redis client is shut down"))
        }
    }

    /// A command's deadline covers the wait for a connection too: a slow connect (its own
    /// limit is `connectTimeout`) fails the command at its deadline. Once connected, the channel
    /// handler enforces the deadline.
    private func bounded(_ reply: EventLoopFuture<RedisReply>, by deadline: NIODeadline) -> EventLoopFuture<RedisReply> {
        let promise = eventLoop.makePromise(of: RedisReply.self)
        let settled = NIOLoopBoundBox(false, eventLoop: eventLoop)
        let timer = eventLoop.scheduleTask(deadline: deadline) {
            guard !settled.value else { return }
            settled.value = true
            promise.fail(RedisError(.commandTimeout, "no Redis connection within the command's timeout"))
        }
        reply.whenComplete { result in
            timer.cancel()
            // After the timer failed the command, its outcome has nobody left to tell.
            guard !settled.value else { return }
            settled.value = true
            promise.completeWith(result)
        }
        return promise.futureResult
    }

    /// Writes issued in one event-loop tick while others are in flight go out with one flush
    /// (pipelining without a syscall per command).
    private func scheduleFlush(_ channel: Channel) {
        guard !state.value.flushScheduled else { return }
        state.value.flushScheduled = true
        eventLoop.execute {
            self.state.value.flushScheduled = false
            channel.flush()
        }
    }

    private func startConnecting() -> EventLoopFuture<Void> {
        let deadline = NIODeadline.now() + configuration.connectTimeout
        let promise = eventLoop.makePromise(of: Void.self)
        state.value.connection = .connecting(promise.futureResult)
        let connected = RedisConnector(configuration: configuration, logger: logger)
            .connect(on: eventLoop, deadline: deadline)
        connected.whenComplete { result in
            switch result {
            case .success(let channel):
                self.connectSucceeded(channel, promise: promise)
            case .failure(let error):
                self.connectFailed(RedisConnector.redisError(error), promise: promise)
            }
        }
        return promise.futureResult
    }

    private func connectSucceeded(_ channel: Channel, promise: EventLoopPromise<Void>) {
        guard case .connecting = state.value.connection,
              let handler = try? channel.pipeline.syncOperations.handler(type: RedisChannelHandler.self)
        else {
            // Shut down while connecting.
            channel.close(promise: nil)
            promise.fail(RedisError(.shutdown, "the Redis client is shut down"))
            return
        }
        if state.value.failures > 0 {
            logger.info("Redis reconnected", metadata: [RedisLogKeys.failedAttempts: "\(state.value.failures)"])
        }
        state.value.connection = .connected(channel, handler)
        state.value.failures = 0
        state.value.retryAt = nil
        state.value.lastError = nil
        channel.closeFuture.whenComplete { _ in self.connectionClosed(channel) }
        promise.succeed()
    }

    private func connectFailed(_ error: RedisError, promise: EventLoopPromise<Void>) {
        if case .connecting = state.value.connection {
            state.value.connection = .idle
            state.value.failures += 1
            let delay = configuration.reconnectDelay(afterFailures: state.value.failures)
            state.value.retryAt = .now() + delay
            state.value.lastError = error
            logger.warning("Redis connect failed", metadata: [
                RedisLogKeys.error: "\(error.code.rawValue): \(error.message)",
                RedisLogKeys.failedAttempts: "\(state.value.failures)",
                RedisLogKeys.retryInMilliseconds: "\(delay.nanoseconds / 1_000_000)",
            ])
        }
        promise.fail(error)
    }

    private func connectionClosed(_ channel: Channel) {
        guard case .connected(let current, _) = state.value.connection, current === channel else { return }
        // Reconnect on the next command, right away: backoff applies only to failed connects.
        state.value.connection = .idle
        state.value.retryAt = nil
        logger.info("Redis connection closed; will reconnect on the next command")
    }
}
