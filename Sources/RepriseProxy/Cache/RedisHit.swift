import NIOCore
import RepriseCore

/// An answer found in Redis. A JSON answer asked for as JSON (most hits) is written from the
/// stored bytes: its head encoded from them, its body a slice of them, nothing decoded into
/// Swift values. Any other shape goes through a `CachedAnswer` decoded for it (the conversions
/// live there), or through the one already made to fill the memory cache.
struct RedisHit: ReplayableAnswer, Sendable {
    let stored: StoredEntry
    /// The answer put in the memory cache with this hit, when it is on.
    let cached: CachedAnswer?

    var status: Int { stored.layout.status }
    var usage: CacheEntry.Usage? { stored.layout.usage }
    func ageSeconds(nowMs: Int64) -> Int { stored.layout.lifetime.ageSeconds(nowMs: nowMs) }

    func replayBytes(for shape: ReplayShape) throws(ShapeConversionError) -> (head: ByteBuffer, body: ByteBuffer) {
        if let cached { return try cached.replayBytes(for: shape) }
        if shape == .json, let body = stored.jsonBody {
            return (stored.jsonHead(bodyLength: body.readableBytes), body)
        }
        return try CachedAnswer(entry: stored.entry()).replayBytes(for: shape)
    }
}
