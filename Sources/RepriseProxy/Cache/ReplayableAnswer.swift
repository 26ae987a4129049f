import NIOCore
import RepriseCore

/// A stored answer a hit writes: from the memory cache (`CachedAnswer`) or from Redis
/// (`RedisHit`, served from the stored bytes).
protocol ReplayableAnswer {
    var status: Int { get }
    var usage: CacheEntry.Usage? { get }
    func ageSeconds(nowMs: Int64) -> Int
    /// The response head (without `age` and the end of the head) and body for `shape`; throws
    /// when the stored answer does not convert to it.
    func replayBytes(for shape: ReplayShape) throws(ShapeConversionError) -> (head: ByteBuffer, body: ByteBuffer)
}

extension CachedAnswer: ReplayableAnswer {
    var status: Int { entry.status }
    var usage: CacheEntry.Usage? { entry.usage }
    func ageSeconds(nowMs: Int64) -> Int { entry.ageSeconds(nowMs: nowMs) }
    func replayBytes(for shape: ReplayShape) throws(ShapeConversionError) -> (head: ByteBuffer, body: ByteBuffer) {
        let encoded = try encoded(for: shape)
        return (encoded.head, encoded.body)
    }
}
