import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The fail-open L2 cache over Redis. A lookup never fails: Redis down, slow or erroring is a
/// miss (`nil`) within `lookupTimeout`; stores are fire-and-forget. A breaker stops sending
/// commands after consecutive failures, answers at once, probes with `PING`, and closes again
/// when Redis is back. Decisions are taken under a lock; I/O happens after.
public final class RedisCacheStore: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// A lookup slower than this is a miss (and a failure for the breaker).
        public var lookupTimeout: TimeAmount
        public var breaker: RedisBreaker.Configuration

        public init(lookupTimeout: TimeAmount = .milliseconds(50), breaker: RedisBreaker.Configuration = .init()) {
            self.lookupTimeout = lookupTimeout
            self.breaker = breaker
        }
    }

    /// What happened so far, for logs and (later) metrics.
    public struct Counters: Sendable, Hashable {
        public var lookupHits = 0
        public var lookupMisses = 0
        /// Errors and timeouts (answered as misses).
        public var lookupErrors = 0
        public var lookupsSkippedByBreaker = 0
        public var storesSucceeded = 0
        /// Stores that failed or timed out.
        public var storesDropped = 0
        public var storesSkippedByBreaker = 0
        public var breakerOpenings = 0
        public init() {}
    }

    private struct State {
        var breaker: RedisBreaker
        var counters = Counters()
        var stopped = false
    }

    public let configuration: Configuration
    private let client: RedisClient
    private let state: NIOLockedValueBox<State>
    private let logger: Logger
    private let report: (@Sendable (RedisCommandReport) -> Void)?

    /// - Parameter report: told of every command's round trip (on the event loop that got the reply).
    public init(
        client: RedisClient, configuration: Configuration = .init(), logger: Logger = Logger(label: "reprise.redis.cache"),
        report: (@Sendable (RedisCommandReport) -> Void)? = nil
    ) {
        self.report = report
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.state = NIOLockedValueBox(State(breaker: RedisBreaker(configuration: configuration.breaker)))
    }

    public var breakerState: RedisBreaker.State { state.withLockedValue { $0.breaker.state } }
    public var counters: Counters { state.withLockedValue { $0.counters } }

    /// The value under `key`, or `nil` on a miss, an error, a timeout or an open breaker.
    /// Never fails. Completes on `eventLoop` when given (else on one of the client's loops).
    public func lookup(_ key: String, on eventLoop: (any EventLoop)? = nil) -> EventLoopFuture<ByteBuffer?> {
        lookup(key, on: eventLoop) { $0 }
    }

    /// The value under `key` turned into `T` by `transform` (nil for a miss or when `transform`
    /// says so) in the same callback that answers the lookup: a caller that decodes what it
    /// found needs no second future. `transform` runs on the event loop of the connection that
    /// got the reply (the caller's own loop when it has a pooled connection), so it must only
    /// touch thread-safe state; the future completes on `eventLoop` as before.
    public func lookup<T: Sendable>(
        _ key: String, on eventLoop: (any EventLoop)? = nil, transform: @escaping @Sendable (ByteBuffer) -> T?
    ) -> EventLoopFuture<T?> {
        let loop = eventLoop ?? client.eventLoop
        let decision = state.withLockedValue { state -> RedisBreaker.Decision in
            let decision = state.breaker.decide()
            if decision == .skip { state.counters.lookupsSkippedByBreaker += 1 }
            return decision
        }
        guard decision == .send else { return loop.makeSucceededFuture(nil) }

        // The command carries the lookup timeout as its deadline (the connection's handler and,
        // while connecting, the slot enforce it), so a lookup schedules no timer of its own.
        let promise = loop.makePromise(of: T?.self)
        let sentAt = NIODeadline.now()
        client.send(.get(key), timeout: configuration.lookupTimeout) { result in
            do {
                let value = try result.get().getValue()
                self.report?(RedisCommandReport(command: .get, nanoseconds: (NIODeadline.now() - sentAt).nanoseconds, result: value != nil ? .hit : .miss))
                self.lookupAnswered(hit: value != nil)
                promise.succeed(value.flatMap(transform))
            } catch {
                self.report?(RedisCommandReport(command: .get, nanoseconds: (NIODeadline.now() - sentAt).nanoseconds, result: .failed(error)))
                self.lookupFailed(error)
                promise.succeed(nil)
            }
        }
        return promise.futureResult
    }

    private func lookupAnswered(hit: Bool) {
        state.withLockedValue { state in
            if hit { state.counters.lookupHits += 1 } else { state.counters.lookupMisses += 1 }
            _ = state.breaker.commandSucceeded()
        }
    }

    private func lookupFailed(_ error: any Error) {
        logger.debug("Redis lookup failed", metadata: [RedisLogKeys.error: "\(error)"])
        recordFailure(lookup: true)
    }

    /// `SET key value PX ttl`, fire-and-forget: failures are counted and dropped.
    public func store(_ key: String, value: ByteBuffer, ttlMilliseconds: Int64) {
        let decision = state.withLockedValue { state -> RedisBreaker.Decision in
            let decision = state.breaker.decide()
            if decision == .skip { state.counters.storesSkippedByBreaker += 1 }
            return decision
        }
        guard decision == .send else { return }
        let sentAt = NIODeadline.now()
        client.set(key, value: value, ttlMilliseconds: ttlMilliseconds).whenComplete { result in
            let elapsed = (NIODeadline.now() - sentAt).nanoseconds
            switch result {
            case .success:
                self.report?(RedisCommandReport(command: .set, nanoseconds: elapsed, result: .stored))
                self.state.withLockedValue { state in
                    state.counters.storesSucceeded += 1
                    _ = state.breaker.commandSucceeded()
                }
            case .failure(let error):
                self.report?(RedisCommandReport(command: .set, nanoseconds: elapsed, result: .failed(error)))
                self.logger.debug("Redis store dropped", metadata: [RedisLogKeys.error: "\(error)"])
                self.recordFailure(lookup: false)
            }
        }
    }

    /// Deletes every key starting with `prefix` (SCAN + UNLINK). Unlike lookups this reports
    /// failure: an operator asked for it and must know.
    public func purge(prefix: String) -> EventLoopFuture<Int> {
        client.deleteKeys(matching: Self.globEscaped(prefix) + "*")
    }

    /// Stops probing. The client is not shut down: its owner does that.
    public func shutdown() {
        state.withLockedValue { $0.stopped = true }
    }

    private func recordFailure(lookup: Bool) {
        let action = state.withLockedValue { state -> RedisBreaker.Action in
            if lookup { state.counters.lookupErrors += 1 } else { state.counters.storesDropped += 1 }
            let action = state.breaker.commandFailed(now: .now())
            if case .opened = action { state.counters.breakerOpenings += 1 }
            return action
        }
        run(action)
    }

    private func run(_ action: RedisBreaker.Action) {
        switch action {
        case .none:
            break
        case .opened(let failures, let probeAt):
            logger.warning("Redis breaker opened: lookups answer miss without Redis until a probe succeeds", metadata: [
                RedisLogKeys.consecutiveFailures: "\(failures)",
            ])
            scheduleProbe(at: probeAt)
        case .scheduleProbe(let probeAt):
            scheduleProbe(at: probeAt)
        case .sendProbe:
            client.ping().whenComplete { result in
                let next = self.state.withLockedValue { state -> RedisBreaker.Action in
                    guard !state.stopped else { return .none }
                    switch result {
                    case .success: return state.breaker.probeSucceeded()
                    case .failure: return state.breaker.probeFailed(now: .now())
                    }
                }
                if case .failure(let error) = result {
                    self.logger.debug("Redis probe failed", metadata: [RedisLogKeys.error: "\(error)"])
                }
                self.run(next)
            }
        case .recovered:
            logger.info("Redis breaker closed: Redis answers again")
        }
    }

    private func scheduleProbe(at deadline: NIODeadline) {
        client.eventLoop.scheduleTask(deadline: deadline) {
            let action = self.state.withLockedValue { state -> RedisBreaker.Action in
                state.stopped ? .none : state.breaker.probeTimerFired(now: .now())
            }
            self.run(action)
        }
    }

    static func globEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
