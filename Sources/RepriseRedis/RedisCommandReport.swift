/// What one command of `RedisCacheStore` did, for its owner's metrics
/// (`RedisCacheStore.init(..., report:)`): which command, how long its round trip took, and how
/// it ended. Commands the breaker kept from Redis are not reported here (see `Counters`).
public struct RedisCommandReport: Sendable {
    public enum Command: Sendable, Hashable { case get, set }
    public enum Result: Sendable {
        case hit
        case miss
        case stored
        case failed(any Error)
    }

    public var command: Command
    public var nanoseconds: Int64
    public var result: Result
}
