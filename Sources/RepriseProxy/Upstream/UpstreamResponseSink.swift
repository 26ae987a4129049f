import NIOCore
import NIOHTTP1

/// Receives one upstream call's answer, on the pool's event loop. After `upstreamEnd` or
/// `upstreamFailed` nothing more is called.
protocol UpstreamResponseSink: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead)
    /// The returned future completes when the next part may be read (back-pressure).
    func upstreamBody(_ part: ByteBuffer) -> EventLoopFuture<Void>
    func upstreamEnd()
    func upstreamFailed(_ error: UpstreamCallError)
    /// The call's first-byte deadline (`UpstreamCall.watchFirstByte`) passed without a head;
    /// the call goes on until the sink cancels it.
    func upstreamFirstByteTimedOut()
}
