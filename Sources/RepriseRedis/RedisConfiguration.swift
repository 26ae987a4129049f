import NIOCore

/// Where and how to reach Redis, and the bounds of every operation.
public struct RedisConfiguration: Sendable, Hashable {
    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)
    }

    public var endpoint: Endpoint
    /// ACL user name for `AUTH username password`; `nil` means `AUTH password` (the default user).
    public var username: String?
    /// Sent with `AUTH` right after connecting when set.
    public var password: String?
    /// Selected with `SELECT` right after connecting when not 0.
    public var database: Int
    /// Connections in the pool, spread over the event loop group.
    public var poolSize: Int
    /// Connecting, AUTH and SELECT together.
    public var connectTimeout: TimeAmount
    /// From sending a command to its reply.
    public var commandTimeout: TimeAmount
    /// First reconnect delay after a failed connect; doubles per failure up to `reconnectMaxDelay`.
    public var reconnectBaseDelay: TimeAmount
    public var reconnectMaxDelay: TimeAmount
    /// Commands in flight on one connection before new ones fail with `.tooManyInFlight`.
    public var maxInFlightPerConnection: Int
    public var replyLimits: RedisReplyLimits

    public init(
        endpoint: Endpoint,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        poolSize: Int = 2,
        connectTimeout: TimeAmount = .seconds(1),
        commandTimeout: TimeAmount = .seconds(1),
        reconnectBaseDelay: TimeAmount = .milliseconds(50),
        reconnectMaxDelay: TimeAmount = .seconds(5),
        maxInFlightPerConnection: Int = 100_000,
        replyLimits: RedisReplyLimits = RedisReplyLimits()
    ) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.poolSize = max(1, poolSize)
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectBaseDelay = reconnectBaseDelay
        self.reconnectMaxDelay = reconnectMaxDelay
        self.maxInFlightPerConnection = maxInFlightPerConnection
        self.replyLimits = replyLimits
    }

    /// Delay before the reconnect attempt that follows `failures` consecutive failed connects.
    func reconnectDelay(afterFailures failures: Int) -> TimeAmount {
        guard failures > 0 else { return .zero }
        let shift = min(failures - 1, 20)
        let delay = reconnectBaseDelay.nanoseconds << Int64(shift)
        return .nanoseconds(min(delay, reconnectMaxDelay.nanoseconds))
    }
}
