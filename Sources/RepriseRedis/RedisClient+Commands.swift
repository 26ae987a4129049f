import NIOCore

extension RedisClient {
    /// `GET key`: the value, or `nil` when the key does not exist.
    public func get(_ key: String) -> EventLoopFuture<ByteBuffer?> {
        send(.get(key)).flatMapThrowing { try $0.getValue() }
    }

    /// `SET key value [PX ttl]`.
    public func set(_ key: String, value: ByteBuffer, ttlMilliseconds: Int64? = nil) -> EventLoopFuture<Void> {
        send(.set(key, value: value, ttlMilliseconds: ttlMilliseconds)).flatMapThrowing { reply in
            guard case .status = reply else { throw RedisError(.protocolError, "SET answered \(reply)") }
        }
    }

    /// `DEL key...`: how many keys existed.
    public func del(_ keys: [String]) -> EventLoopFuture<Int> {
        send(.del(keys)).flatMapThrowing { reply in
            guard case .integer(let count) = reply else { throw RedisError(.protocolError, "DEL answered \(reply)") }
            return Int(count)
        }
    }

    /// `PING`.
    public func ping() -> EventLoopFuture<Void> {
        send(.ping()).flatMapThrowing { reply in
            guard case .status("PONG") = reply else { throw RedisError(.protocolError, "PING answered \(reply)") }
        }
    }

    /// Deletes every key matching a glob `pattern` with `SCAN` + `UNLINK` (never `KEYS`, which
    /// blocks the server). Returns how many keys were unlinked.
    public func deleteKeys(matching pattern: String, scanCount: Int = 1000) -> EventLoopFuture<Int> {
        scanAndUnlink(cursor: "0", pattern: pattern, scanCount: scanCount, deleted: 0)
    }

    private func scanAndUnlink(cursor: String, pattern: String, scanCount: Int, deleted: Int) -> EventLoopFuture<Int> {
        send(RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", String(scanCount)))
            .flatMapThrowing { reply -> (String, [ByteBuffer]) in
                guard case .array(let parts) = reply, parts.count == 2,
                      let next = parts[0].string, case .array(let keys) = parts[1]
                else { throw RedisError(.protocolError, "SCAN answered \(reply)") }
                return (next, keys.compactMap { if case .bulk(let key) = $0 { key } else { nil } })
            }
            .flatMap { next, keys in
                let unlinked: EventLoopFuture<Int>
                if keys.isEmpty {
                    unlinked = self.eventLoop.makeSucceededFuture(0)
                } else {
                    unlinked = self.send(RedisCommand(name: "UNLINK", arguments: keys)).map { $0.integer.map(Int.init) ?? 0 }
                }
                return unlinked.flatMap { count in
                    if next == "0" { return self.eventLoop.makeSucceededFuture(deleted + count) }
                    return self.scanAndUnlink(cursor: next, pattern: pattern, scanCount: scanCount, deleted: deleted + count)
                }
            }
    }
}

/// Async wrappers of the future-based API.
extension RedisClient {
    public func send(_ command: RedisCommand) async throws -> RedisReply { try await send(command).get() }
    public func send(_ arguments: [ByteBuffer]) async throws -> RedisReply { try await send(arguments).get() }
    public func get(_ key: String) async throws -> ByteBuffer? { try await get(key).get() }
    public func set(_ key: String, value: ByteBuffer, ttlMilliseconds: Int64? = nil) async throws {
        try await set(key, value: value, ttlMilliseconds: ttlMilliseconds).get()
    }
    public func del(_ keys: [String]) async throws -> Int { try await del(keys).get() }
    public func ping() async throws { try await ping().get() }
    public func deleteKeys(matching pattern: String) async throws -> Int { try await deleteKeys(matching: pattern).get() }
    public func shutdown() async throws { try await shutdown().get() }
}

extension RedisReply {
    /// What a `GET` answered: the value, or `nil` when the key does not exist.
    func getValue() throws(RedisError) -> ByteBuffer? {
        switch self {
        case .bulk(let value): return value
        case .null: return nil
        default: throw RedisError(.protocolError, "GET answered \(self)")
        }
    }
}
