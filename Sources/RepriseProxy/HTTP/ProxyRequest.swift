import NIOCore
import NIOHTTP1

/// One complete client request: the head and the whole body.
///
/// Bodies are gathered (bounded by `server.max_body_bytes`) before dispatch because both the
/// cache key and a retried upstream attempt need the complete body; responses stream.
public struct ProxyRequest {
    public var head: RequestHead
    public var body: ByteBuffer?
    /// When the request head arrived (for latency accounting).
    public var receivedAt: NIODeadline
    /// The cache namespace access control decided (the issued key's name in `auth.mode:
    /// keys`); nil: `cache.namespace` decides.
    public var tenant: String?
    /// `Authorization` the upstream gets in place of every client credential header (`auth.mode:
    /// keys`), applied as the upstream head is written from the received bytes
    /// (`UpstreamRequestEncoder`): a cache hit never touches the header lines.
    public var upstreamAuthorization: String?

    /// The path without the query string.
    public var path: Substring {
        let uri = head.uri[...]
        if let question = uri.utf8.firstIndex(of: UInt8(ascii: "?")) { return uri[..<question] }
        return uri
    }
}

/// Handles complete requests. Called on the connection's event loop; must eventually end or
/// abort the writer exactly once.
public protocol RequestResponder: AnyObject {
    func respond(to request: ProxyRequest, writer: ResponseWriter)
}
