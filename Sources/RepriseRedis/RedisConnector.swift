import Logging
import NIOCore
import NIOPosix

/// Opens one connection: TCP or unix socket, then `AUTH` and `SELECT`, all within one deadline.
struct RedisConnector {
    let configuration: RedisConfiguration
    let logger: Logger

    func connect(on eventLoop: any EventLoop, deadline: NIODeadline) -> EventLoopFuture<Channel> {
        let limits = configuration.replyLimits
        let logger = self.logger
        let remaining = deadline - .now()
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(remaining > .zero ? remaining : .milliseconds(1))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(limits: limits, logger: logger))
                }
            }
        let channel: EventLoopFuture<Channel>
        switch configuration.endpoint {
        case .tcp(let host, let port):
            channel = bootstrap.connect(host: host, port: port)
        case .unixSocket(let path):
            channel = bootstrap.connect(unixDomainSocketPath: path)
        }
        // The deadline also bounds AUTH and SELECT (their command deadline).
        return channel.flatMap { channel in
            handshake(channel, deadline: deadline).map { channel }.flatMapError { error in
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
    }

    private func handshake(_ channel: Channel, deadline: NIODeadline) -> EventLoopFuture<Void> {
        var commands: [(RedisCommand, RedisError.Code)] = []
        if let password = configuration.password {
            if let username = configuration.username {
                commands.append((RedisCommand("AUTH", username, password), .authenticationFailed))
            } else {
                commands.append((RedisCommand("AUTH", password), .authenticationFailed))
            }
        }
        if configuration.database != 0 {
            commands.append((RedisCommand("SELECT", String(configuration.database)), .serverError))
        }
        guard !commands.isEmpty else { return channel.eventLoop.makeSucceededVoidFuture() }
        let replies = commands.map { command, failureCode in
            let promise = channel.eventLoop.makePromise(of: RedisReply.self)
            channel.write(RedisRequest(command: command, receiver: .promise(promise), deadline: deadline), promise: nil)
            return promise.futureResult.flatMapErrorThrowing { error in
                if let error = error as? RedisError, error.code == .serverError {
                    throw RedisError(failureCode, "\(command.name) refused: \(error.message)")
                }
                if let error = error as? RedisError, error.code == .commandTimeout {
                    throw RedisError(.connectTimeout, "\(command.name) got no reply within the connect timeout")
                }
                throw error
            }
        }
        channel.flush()
        return EventLoopFuture.andAllSucceed(replies, on: channel.eventLoop)
    }

    /// Maps what NIO throws while connecting onto the client's error codes.
    static func redisError(_ error: any Error) -> RedisError {
        if let error = error as? RedisError { return error }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return RedisError(.connectTimeout, "connecting to Redis timed out")
        }
        if let error = error as? NIOConnectionError {
            if error.connectionErrors.isEmpty, error.dnsAError == nil, error.dnsAAAAError == nil {
                return RedisError(.connectionRefused, "could not resolve Redis host \(error.host)")
            }
            let reasons = error.connectionErrors.map { "\($0.target): \($0.error)" }.joined(separator: "; ")
            if error.connectionErrors.contains(where: { ($0.error as? ChannelError).map { if case .connectTimeout = $0 { true } else { false } } ?? false }) {
                return RedisError(.connectTimeout, "connecting to Redis \(error.host):\(error.port) timed out")
            }
            return RedisError(.connectionRefused, "could not connect to Redis \(error.host):\(error.port): \(reasons)")
        }
        if let error = error as? IOError {
            return RedisError(.connectionRefused, "could not connect to Redis: \(error)")
        }
        return RedisError(.connectionRefused, "could not connect to Redis: \(error)")
    }
}
