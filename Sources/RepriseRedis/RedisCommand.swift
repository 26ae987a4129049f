import NIOCore

/// A Redis command: its arguments (name first), binary-safe.
///
/// Kept in its RESP form, formatted once when made: the connection writes this very buffer
/// (no second buffer, no formatting per write). A `GET` (one per cache lookup) keeps only its
/// key: the connection writes it into a buffer it reuses, so a lookup allocates none.
public struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    enum Form: Sendable, Hashable {
        /// `*<count>\r\n`, then `$<length>\r\n<bytes>\r\n` per argument.
        case resp(ByteBuffer)
        case get(key: String)
    }

    let form: Form
    public let argumentCount: Int
    /// Where the command name lies in the RESP form (from its start), for logs.
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
        self.init(form: .resp(wire), argumentCount: arguments.count, nameLength: nameLength)
    }

    /// `form` holds `argumentCount` arguments, the first (the name) `nameLength` bytes long.
    private init(form: Form, argumentCount: Int, nameLength: Int) {
        self.form = form
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

    /// The RESP form (made now for a `GET`).
    var wire: ByteBuffer {
        switch form {
        case .resp(let wire):
            return wire
        case .get(let key):
            var wire = ByteBufferAllocator().buffer(capacity: RESPFormatter.getByteCount(key: key))
            RESPFormatter.writeGet(key: key, into: &wire)
            return wire
        }
    }

    /// The command name, upper-cased, for logs (arguments are never logged: they hold keys and values).
    public var name: String {
        let wire = wire
        return String(buffer: wire.getSlice(at: wire.readerIndex + nameOffset, length: nameLength) ?? ByteBuffer()).uppercased()
    }

    public var description: String { "RedisCommand(\(name), \(argumentCount - 1) arguments)" }

    /// Commands are equal when their RESP forms are, however they are held.
    public static func == (lhs: RedisCommand, rhs: RedisCommand) -> Bool { lhs.wire == rhs.wire }
    public func hash(into hasher: inout Hasher) { hasher.combine(wire) }
}

extension RedisCommand {
    /// Holds only the key: the connection writes the RESP form into a buffer it reuses (a
    /// lookup sends one per cache miss in L1).
    public static func get(_ key: String) -> RedisCommand {
        RedisCommand(form: .get(key: key), argumentCount: 2, nameLength: 3)
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
