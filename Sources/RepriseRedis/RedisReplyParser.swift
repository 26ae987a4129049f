internal import CHiredis
import NIOCore

/// Bounds on what a server may send, enforced while parsing (hiredis 0.14.1 has none).
public struct RedisReplyLimits: Sendable, Hashable {
    /// The largest reply accepted, in bytes on the wire: every byte of it, the elements of an
    /// array reply included.
    public var maxReplyBytes: Int
    /// The most elements accepted in one array reply.
    public var maxArrayElements: Int

    public init(maxReplyBytes: Int = 64 << 20, maxArrayElements: Int = 1 << 20) {
        self.maxReplyBytes = maxReplyBytes
        self.maxArrayElements = maxArrayElements
    }
}

/// Owns one hiredis reader. Not thread-safe: one per connection, used on its event loop only.
/// Each C reply is converted into a `RedisReply` and freed right away; no pointer leaves here.
/// A whole bulk reply that starts a read while hiredis holds nothing (a cache lookup's answer,
/// most of the time) is read without hiredis and handed up as a slice of the read buffer: who
/// keeps such a slice keeps that buffer (copy it to keep it long).
public final class RedisReplyParser {
    private var reader: UnsafeMutablePointer<redisReader>?
    private let limits: RedisReplyLimits
    private let allocator: ByteBufferAllocator
    /// Bytes fed that belong to replies not complete yet: the reply being read, including the
    /// bytes hiredis has already consumed into its finished nested elements (which
    /// `reprise_redisReaderBufferedBytes` no longer counts), plus any unparsed bytes after it.
    private var pendingBytes = 0

    public init(limits: RedisReplyLimits, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.limits = limits
        self.allocator = allocator
        self.reader = reprise_redisReaderCreateBounded(Int64(limits.maxArrayElements))
    }

    deinit {
        reprise_redisReaderFreeBounded(reader)
    }

    /// Feeds bytes and calls `onReply` for every complete reply, in order. After a thrown
    /// protocol error the parser is unusable: the connection must be dropped.
    public func feed(_ bytes: ByteBuffer, onReply: (RedisReply) -> Void) throws(RedisError) {
        guard let reader else { throw RedisError(.protocolError, "the reply parser is closed after an error") }
        var bytes = bytes
        if pendingBytes == 0 {
            // hiredis holds nothing: whole bulk and null replies at the front are read here,
            // the bulk handed up as a slice of `bytes` (no copy into hiredis, none out of it).
            while let reply = try takeWholeBulk(from: &bytes) { onReply(reply) }
            if bytes.readableBytes == 0 { return }
        }
        let fed = bytes.withUnsafeReadableBytes { raw -> Int32 in
            guard let base = raw.baseAddress else { return REDIS_OK }
            return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), raw.count)
        }
        guard fed == REDIS_OK else { throw fail("feeding the reader failed") }
        pendingBytes += bytes.readableBytes
        while true {
            var replyPointer: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &replyPointer) == REDIS_OK else {
                throw fail(nil)
            }
            guard let replyPointer else { break }
            // The reply took every pending byte but those still unparsed after it.
            let buffered = reprise_redisReaderBufferedBytes(reader)
            let replyBytes = pendingBytes - buffered
            pendingBytes = buffered
            guard replyBytes <= limits.maxReplyBytes else {
                freeReplyObject(replyPointer)
                throw fail("a reply exceeds \(limits.maxReplyBytes) bytes (\(replyBytes) bytes)")
            }
            let reply = convert(replyPointer.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(replyPointer)
            onReply(reply)
        }
        if pendingBytes > limits.maxReplyBytes {
            throw fail("a reply exceeds \(limits.maxReplyBytes) bytes (\(pendingBytes) read so far)")
        }
    }

    /// A whole top-level bulk reply (`$<length>\r\n<bytes>\r\n`) or the null bulk (`$-1\r\n`)
    /// at the front of `bytes`, taken off it; nil (and `bytes` untouched) for anything else,
    /// a reply cut short included: hiredis reads those. Only the plain form is taken (digits,
    /// at most 9, no leading zero, the CRLF after the bytes checked); any other goes to hiredis,
    /// which reads or refuses it as before, so the replies do not depend on where reads cut.
    private func takeWholeBulk(from bytes: inout ByteBuffer) throws(RedisError) -> RedisReply? {
        let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        let found = bytes.withUnsafeReadableBytes { raw -> (start: Int, length: Int)? in
            guard raw.count >= 4, raw[0] == UInt8(ascii: "$") else { return nil }
            var index = 1
            var length = 0
            while index < raw.count, index <= 9, raw[index] &- UInt8(ascii: "0") < 10 {
                length = length * 10 + Int(raw[index] &- UInt8(ascii: "0"))
                index += 1
            }
            if index == 1 {
                // `$-1\r\n`, the null bulk: start -1.
                guard raw.count >= 5, raw[1] == UInt8(ascii: "-"), raw[2] == UInt8(ascii: "1"), raw[3] == cr, raw[4] == lf else { return nil }
                return (-1, 5)
            }
            // hiredis refuses leading zeros: left to it.
            guard raw[1] != UInt8(ascii: "0") || index == 2 else { return nil }
            let start = index + 2
            guard start <= raw.count, raw[index] == cr, raw[index + 1] == lf,
                  raw.count - start >= length + 2, raw[start + length] == cr, raw[start + length + 1] == lf
            else { return nil }
            return (start, length)
        }
        guard let found else { return nil }
        if found.start < 0 {
            bytes.moveReaderIndex(forwardBy: found.length)
            return .null
        }
        let replyBytes = found.start + found.length + 2
        guard replyBytes <= limits.maxReplyBytes else {
            throw fail("a reply exceeds \(limits.maxReplyBytes) bytes (\(replyBytes) bytes)")
        }
        let bulk = bytes.getSlice(at: bytes.readerIndex + found.start, length: found.length)!
        bytes.moveReaderIndex(forwardBy: replyBytes)
        return .bulk(bulk)
    }

    /// Builds the error and retires the reader (it is unusable after an error).
    private func fail(_ override: String?) -> RedisError {
        guard let reader else { return RedisError(.protocolError, override ?? "protocol error") }
        let message: String
        if let override {
            message = override
        } else if reprise_redisReaderArrayLimitExceeded(reader) != 0 {
            message = "an array reply exceeds \(limits.maxArrayElements) elements"
        } else {
            message = String(cString: reprise_redisReaderGetError(reader))
        }
        reprise_redisReaderFreeBounded(reader)
        self.reader = nil
        return RedisError(.protocolError, message)
    }

    private func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            var buffer = allocator.buffer(capacity: value.len)
            if let text = value.str {
                buffer.writeBytes(UnsafeRawBufferPointer(start: text, count: value.len))
            }
            return .bulk(buffer)
        case REDIS_REPLY_STATUS:
            return .status(Self.text(value))
        case REDIS_REPLY_ERROR:
            return .error(Self.text(value))
        case REDIS_REPLY_INTEGER:
            return .integer(value.integer)
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element[index] {
                    elements.append(convert(element))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            return .error("unknown hiredis reply type \(value.type)")
        }
    }

    private static func text(_ value: redisReply) -> String {
        guard let text = value.str else { return "" }
        let bytes = UnsafeRawBufferPointer(start: text, count: value.len)
        return String(decoding: bytes, as: UTF8.self)
    }
}
