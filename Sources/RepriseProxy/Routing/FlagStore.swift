import Logging
import NIOCore
import RepriseCore
import RepriseRedis

/// The fleet-wide flag overrides in Redis: one hash (`routing.flags_key`), field `ROUTE/VARIANT`,
/// value `FlagOverride.encoded`. Every process polls it (`routing.flags_poll_interval`), so an
/// override or a guard trip stored by one reaches all within about one interval.
///
/// Polling, not pub/sub: a process that missed a message (restarted, Redis reconnected) would
/// stay wrong until the next change; a poll is one small `HGETALL` per interval and heals itself.
struct FlagStore: Sendable {
    let client: RedisClient
    let runtime: RoutingRuntime
    let logger: Logger

    func write(_ override: FlagOverride?, route: String, variant: String) -> EventLoopFuture<Void> {
        let key = runtime.config.flagsKey
        let field = FlagOverride.field(route: route, variant: variant)
        let command = override.map { RedisCommand("HSET", key, field, $0.encoded) } ?? RedisCommand("HDEL", key, field)
        return client.send(command).map { _ in }
    }

    /// Reads the hash; a value that is not an override is logged and left out.
    func read() -> EventLoopFuture<[String: FlagOverride]> {
        client.send(RedisCommand("HGETALL", runtime.config.flagsKey)).flatMapThrowing { reply in
            guard case .array(let items) = reply, items.count % 2 == 0 else {
                throw UnexpectedReply(command: "HGETALL", reply: reply)
            }
            var stored: [String: FlagOverride] = [:]
            for index in stride(from: 0, to: items.count, by: 2) {
                guard let field = items[index].string, let text = items[index + 1].string else { continue }
                guard let override = FlagOverride(encoded: text) else {
                    logger.warning("ignoring a flag override that is not ORIGIN:BASIS_POINTS", metadata: ["field": "\(field)", "value": "\(text)"])
                    continue
                }
                stored[field] = override
            }
            return stored
        }
    }

    /// Polls until cancelled; a failed read keeps the overrides last read (Redis down must not
    /// undo a rollback).
    func run() async {
        var failing = false
        while !Task.isCancelled {
            // Without routes there is nothing to override: no command every second for nothing.
            if runtime.config.routes.isEmpty {
                try? await Task.sleep(for: .nanoseconds(runtime.config.flagsPollInterval.nanoseconds))
                continue
            }
            do {
                let stored = try await read().get()
                runtime.applyStored(stored)
                if failing { logger.notice("flag overrides read from Redis again") }
                failing = false
            } catch {
                if !failing { logger.warning("cannot read flag overrides from Redis; keeping the last ones", metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: .nanoseconds(runtime.config.flagsPollInterval.nanoseconds))
        }
    }
}

/// Redis answered a flag command with something else than its documented reply.
struct UnexpectedReply: Error, CustomStringConvertible {
    let command: String
    let reply: RedisReply
    var description: String { "\(command) answered \(reply)" }
}
