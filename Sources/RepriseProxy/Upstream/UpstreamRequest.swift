import NIOCore
import NIOHTTP1

/// A request as it goes to the upstream: head (target, `Host`, framing set) and whole body.
struct UpstreamRequest {
    var head: HTTPRequestHead
    var body: ByteBuffer?
}
