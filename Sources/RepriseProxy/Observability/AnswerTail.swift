import NIOCore
import RepriseCore

/// The last bytes of an answer as it was written to the client, kept for the token counts
/// (`AnswerUsage`) and, with `logging.log_bodies`, the access log. Bounded by
/// `AnswerUsage.tailBytes` (twice that before a trim).
struct AnswerTail {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ part: ByteBuffer) {
        let view = part.readableBytesView
        let limit = AnswerUsage.tailBytes
        if view.count >= limit {
            bytes = Array(view.suffix(limit))
            return
        }
        bytes.append(contentsOf: view)
        if bytes.count > 2 * limit { bytes.removeFirst(bytes.count - limit) }
    }

    var usage: CacheEntry.Usage? { AnswerUsage.read(tail: bytes) }
}
