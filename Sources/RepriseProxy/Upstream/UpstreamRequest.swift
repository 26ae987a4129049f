import NIOCore
import NIOHTTP1

/// A request as it goes to the upstream: its head already encoded (`UpstreamRequestEncoder`:
/// target, `Host`, framing set) and its whole body. Written as HTTP/1.1 without
/// `Connection: close`, so every request asks to keep the connection.
struct UpstreamRequest {
    /// Its method: the response decoder must know that an answer to `HEAD` has no body.
    var method: HTTPMethod
    /// Request line, headers and the blank line.
    var head: ByteBuffer
    var body: ByteBuffer?
}
