/// How the request's body is delimited and what the connection does after it, as llhttp read
/// the head: the facts the proxy decides with before any body byte arrives.
public struct RequestFraming: Hashable, Sendable {
    /// The declared `Content-Length` (llhttp refuses a malformed, overflowing or twice
    /// differently declared one); nil when the head has none.
    public var contentLength: UInt64?
    /// `Transfer-Encoding` ends in `chunked`; the body events carry the decoded chunk data.
    public var isChunked: Bool
    /// The connection stays open after this request (HTTP/1.1 without `Connection: close`,
    /// HTTP/1.0 with `Connection: keep-alive`).
    public var keepAlive: Bool
    /// An upgrade (`Connection: upgrade` with `Upgrade`, or `CONNECT`): no request follows on
    /// this connection, the parser stops after this one.
    public var isUpgrade: Bool
    /// `Expect: 100-continue`.
    public var expectsContinue: Bool
}
