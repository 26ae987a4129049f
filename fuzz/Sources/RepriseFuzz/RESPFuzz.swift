import NIOCore
import RepriseRedis

/// The RESP reply parser (hiredis behind a Swift wrapper) on arbitrary bytes cut at arbitrary
/// points: never traps, never lets a reply past the limits; when the bytes parse both whole and
/// cut, the replies are the same.
enum RESPFuzz {
    static let limits = RedisReplyLimits(maxReplyBytes: 4096, maxArrayElements: 64)

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let seed = input.byte()
        let stream = input.rest
        let whole = replies(of: [stream[...]])
        let cut = replies(of: FuzzInput.pieces(of: stream, seed: seed, maxPiece: 64))
        if let whole, let cut {
            precondition(whole == cut, "the replies depend on where the bytes were cut")
        }
    }

    /// Every reply parsed before the end or the first error; nil after an error.
    static func replies(of pieces: [ArraySlice<UInt8>]) -> [RedisReply]? {
        let parser = RedisReplyParser(limits: limits)
        var replies: [RedisReply] = []
        for piece in pieces {
            do {
                try parser.feed(ByteBuffer(bytes: piece)) { replies.append($0) }
            } catch {
                return nil
            }
        }
        for reply in replies { check(reply) }
        return replies
    }

    static func check(_ reply: RedisReply) {
        switch reply {
        case .bulk(let buffer):
            precondition(buffer.readableBytes <= limits.maxReplyBytes, "a bulk reply over the limit")
        case .array(let elements):
            precondition(elements.count <= limits.maxArrayElements, "an array over the limit")
            for element in elements { check(element) }
        default:
            break
        }
    }
}
