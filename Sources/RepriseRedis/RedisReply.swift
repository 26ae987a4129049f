import NIOCore

/// One reply of a Redis server (RESP2), copied out of hiredis into Swift values.
///
/// A top-level error reply fails the command's future with `RedisError` (code `.serverError`);
/// `.error` appears only nested inside arrays (for example in the result of `EXEC`).
public enum RedisReply: Sendable, Hashable {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk(ByteBuffer)
    case null
    case array([RedisReply])

    /// The bytes of a bulk reply, `nil` for `.null`; other replies are a type mismatch.
    public var bulkBytes: [UInt8]? {
        if case .bulk(let buffer) = self { return Array(buffer.readableBytesView) }
        return nil
    }

    /// The text of a status or bulk reply.
    public var string: String? {
        switch self {
        case .status(let text): return text
        case .bulk(let buffer): return String(buffer: buffer)
        default: return nil
        }
    }

    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }
}
