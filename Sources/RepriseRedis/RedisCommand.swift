import NIOCore

/// A Redis command: its arguments (name first), binary-safe.
///
/// Kept in its RESP form, formatted once when made: the connection writes this very buffer
/// (no second buffer, no formatting per write).
public struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    /// The command as RESP: `*<count>\r\n`, then `$<length>\r\n<bytes>\r\n` per argument.
    var wire: ByteBuffer
    public let argumentCount: Int
    /// Where the command name lies in `wire` (from its reader index), for logs.
    private let nameOffset: Int
    private let nameLength: Int

    /// A command from byte-buffer arguments, the command name first: `[GET, key]`.
    public init(arguments: [ByteBuffer]) {
        precondition(!arguments.isEmpty, "a Redis command needs at least its name")
        let wire = RESPFormatter.wire(
            argumentCount: arguments.count, byteCount: RESPFormatter.byteCount(argumentLengths: arguments.lazy.map(\.readableBytes))
        ) { write in
            for argument in arguments {
                argument.withUnsafeReadableBytes { write($0) }
            }
        }
        let nameLength = arguments[0].readableBytes
        self.init(wire: wire, argumentCount: arguments.count, nameLength: nameLength)
    }

    /// `wire` holds `argumentCount` arguments, the first (the name) `nameLength` bytes long.
    private init(wire: ByteBuffer, argumentCount: Int, nameLength: Int) {
        self.wire = wire
        self.argumentCount = argumentCount
        self.nameLength = nameLength
        // `*<count>\r\n$<length>\r\n`
        self.nameOffset = RESPFormatter.arrayHeaderByteCount(argumentCount) + 1 + RESPFormatter.decimalDigits(nameLength) + 2
    }

    /// A command with a name and string arguments: `RedisCommand("SET", "k", "v")`.
    public init(_ name: String, _ arguments: String...) {
        self.init(name: name, arguments: arguments.map { ByteBuffer(string: $0) })
    }

    /// A command with a name and byte-buffer arguments.
    public init(name: String, arguments: [ByteBuffer]) {
        self.init(arguments: [ByteBuffer(string: name)] + arguments)
    }

    /// The command name, upper-cased, for logs (arguments are never logged: they hold keys and values).
    public var name: String {
        String(buffer: wire.getSlice(at: wire.readerIndex + nameOffset, length: nameLength) ?? ByteBuffer())
            .uppercased()
    }

    public var description: String { "RedisCommand(\(name), \(argumentCount - 1) arguments)" }
}

extension RedisCommand {
    /// Built in place, in its RESP form (one buffer): a lookup sends one per cache miss in L1.
    public static func get(_ key: String) -> RedisCommand {
        var key = key
        let wire = key.withUTF8 { key in
            RESPFormatter.wire(
                argumentCount: 2,
                byteCount: RESPFormatter.arrayHeaderByteCount(2) + RESPFormatter.bulkByteCount(3) + RESPFormatter.bulkByteCount(key.count)
            ) { write in
                let name: StaticString = "GET"
                write(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
                write(UnsafeRawBufferPointer(key))
            }
        }
        return RedisCommand(wire: wire, argumentCount: 2, nameLength: 3)
    }
    public static func ping() -> RedisCommand { RedisCommand("PING") }
    public static func del(_ keys: [String]) -> RedisCommand {
        RedisCommand(name: "DEL", arguments: keys.map { ByteBuffer(string: $0) })
    }
    /// `SET key value [PX ttl]`.
    public static func set(_ key: String, value: ByteBuffer, ttlMilliseconds: Int64? = nil) -> RedisCommand {
        var arguments = [ByteBuffer(string: key), value]
        if let ttl = ttlMilliseconds {
            arguments.append(ByteBuffer(string: "PX"))
            arguments.append(ByteBuffer(string: String(ttl)))
        }
        return RedisCommand(name: "SET", arguments: arguments)
    }
}

extension RedisCommand {
    /// `EVAL script numkeys key... arg...`.
    public static func eval(_ script: String, keys: [String], arguments: [String]) -> RedisCommand {
        RedisCommand(name: "EVAL", arguments: ([script, String(keys.count)] + keys + arguments).map { ByteBuffer(string: $0) })
    }
    /// `EVALSHA sha1 numkeys key... arg...`: the script Redis cached under its SHA-1.
    public static func evalsha(_ sha: String, keys: [String], arguments: [String]) -> RedisCommand {
        RedisCommand(name: "EVALSHA", arguments: ([sha, String(keys.count)] + keys + arguments).map { ByteBuffer(string: $0) })
    }
    /// `SCRIPT LOAD script`: caches it, answers its SHA-1.
    public static func scriptLoad(_ script: String) -> RedisCommand {
        RedisCommand("SCRIPT", "LOAD", script)
    }
}
