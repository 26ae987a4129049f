import NIOCore

/// A Redis command: its arguments (name first), binary-safe.
///
/// The arguments are kept back to back in one buffer so that formatting can hand hiredis all
/// argument pointers at once without a copy per argument.
public struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    /// All arguments, concatenated.
    var storage: ByteBuffer
    /// The length of each argument, in order.
    var argumentLengths: [Int]

    /// A command from byte-buffer arguments, the command name first: `[GET, key]`.
    public init(arguments: [ByteBuffer]) {
        precondition(!arguments.isEmpty, "a Redis command needs at least its name")
        // Allocated at its size: an empty `ByteBuffer()` grown by `reserveCapacity` allocates twice.
        var storage = ByteBufferAllocator().buffer(capacity: arguments.reduce(0) { $0 + $1.readableBytes })
        var lengths: [Int] = []
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            var argument = argument
            lengths.append(argument.readableBytes)
            storage.writeBuffer(&argument)
        }
        self.storage = storage
        self.argumentLengths = lengths
    }

    private init(storage: ByteBuffer, argumentLengths: [Int]) {
        self.storage = storage
        self.argumentLengths = argumentLengths
    }

    /// A command with a name and string arguments: `RedisCommand("SET", "k", "v")`.
    public init(_ name: String, _ arguments: String...) {
        self.init(name: name, arguments: arguments.map { ByteBuffer(string: $0) })
    }

    /// A command with a name and byte-buffer arguments.
    public init(name: String, arguments: [ByteBuffer]) {
        self.init(arguments: [ByteBuffer(string: name)] + arguments)
    }

    public var argumentCount: Int { argumentLengths.count }

    /// The command name, upper-cased, for logs (arguments are never logged: they hold keys and values).
    public var name: String {
        String(buffer: storage.getSlice(at: storage.readerIndex, length: argumentLengths[0]) ?? ByteBuffer())
            .uppercased()
    }

    public var description: String { "RedisCommand(\(name), \(argumentCount - 1) arguments)" }
}

extension RedisCommand {
    /// Built in place (one buffer, no argument buffers): a lookup sends one per cache miss in L1.
    public static func get(_ key: String) -> RedisCommand {
        var storage = ByteBufferAllocator().buffer(capacity: 3 + key.utf8.count)
        storage.writeStaticString("GET")
        let keyLength = storage.writeString(key)
        return RedisCommand(storage: storage, argumentLengths: [3, keyLength])
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
