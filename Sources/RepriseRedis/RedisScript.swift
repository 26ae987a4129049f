import NIOConcurrencyHelpers
import NIOCore

/// A Lua script run by its SHA-1 (`EVALSHA`: the script's text is not resent per call).
///
/// The SHA-1 comes from `SCRIPT LOAD`, asked once; until it is known, and whenever Redis has
/// lost its script cache (a restart, `SCRIPT FLUSH`: `NOSCRIPT`), the call is an `EVAL`, which
/// caches the script again.
public final class RedisScript: Sendable {
    public let source: String
    private let sha = NIOLockedValueBox<String?>(nil)
    private let loading = NIOLockedValueBox(false)

    public init(source: String) {
        self.source = source
    }

    /// The SHA-1 once known (tests check what Redis cached).
    public var knownSHA: String? { sha.withLockedValue { $0 } }

    public func run(on client: RedisClient, keys: [String], arguments: [String], timeout: TimeAmount) -> EventLoopFuture<RedisReply> {
        guard let known = knownSHA else {
            learnSHA(client: client)
            return client.send(.eval(source, keys: keys, arguments: arguments), timeout: timeout)
        }
        return client.send(.evalsha(known, keys: keys, arguments: arguments), timeout: timeout).flatMapError { error in
            guard let redisError = error as? RedisError, redisError.code == .serverError, redisError.message.hasPrefix("NOSCRIPT") else {
                return client.eventLoop.makeFailedFuture(error)
            }
            return client.send(.eval(self.source, keys: keys, arguments: arguments), timeout: timeout)
        }
    }

    private func learnSHA(client: RedisClient) {
        let start = loading.withLockedValue { busy in
            defer { busy = true }
            return !busy
        }
        guard start else { return }
        client.send(.scriptLoad(source)).whenComplete { result in
            if case .success(let reply) = result, let text = reply.string, text.utf8.count == 40 {
                self.sha.withLockedValue { $0 = text }
            }
            self.loading.withLockedValue { $0 = false }
        }
    }
}
