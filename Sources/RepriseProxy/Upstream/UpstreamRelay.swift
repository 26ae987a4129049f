import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Streams one upstream response to the client as it arrives: the head as soon as it comes,
/// each body part flushed at once (an SSE event reaches the client when the upstream sends it),
/// with back-pressure from the client connection to the upstream read.
///
/// AsyncHTTPClient calls the delegate on the client connection's event loop
/// (`.delegateAndChannel(on:)`), the loop the `ResponseWriter` lives on; every method asserts it.
/// That confinement is why the unchecked `Sendable` conformance is sound.
final class UpstreamRelay: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void

    private let writer: ResponseWriter
    private let extraHeaders: HTTPHeaders
    private let eventLoop: EventLoop
    /// Records the answer for the cache when the request may be stored.
    private let tee: CacheTee?

    init(writer: ResponseWriter, extraHeaders: HTTPHeaders, tee: CacheTee?) {
        self.writer = writer
        self.extraHeaders = extraHeaders
        self.eventLoop = writer.eventLoop
        self.tee = tee
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        var headers = HopByHopHeaders.removing(from: head.headers, alsoRemoving: UpstreamClient.responseHeadersNotForwarded)
        headers.add(contentsOf: extraHeaders)
        let isChunked = head.headers["transfer-encoding"].contains { $0.lowercased().contains("chunked") }
        let contentLength = isChunked ? nil : head.headers.first(name: "content-length").flatMap(Int.init)
        tee?.head(head)
        writer.writeHead(status: head.status, headers: headers, contentLength: contentLength)
        return eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        tee?.body(buffer)
        return writer.writeBodyPart(buffer)
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        eventLoop.preconditionInEventLoop()
        // Stored only when the client received the whole answer too.
        if !writer.clientGone { tee?.finished() }
        writer.end()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: Error) {
        eventLoop.preconditionInEventLoop()
        guard !writer.isFinished else { return }
        if writer.headWritten {
            // Part of the answer is already with the client: only a cut connection tells it
            // the message is incomplete.
            writer.abort()
        } else {
            writer.send(error: Self.proxyError(for: error))
        }
    }

    static func proxyError(for error: Error) -> ProxyError {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout:
                return .upstreamTimeout("no connection within upstream.connect_timeout")
            case .readTimeout:
                return .upstreamTimeout("no data within upstream.read_timeout")
            case .deadlineExceeded:
                return .upstreamTimeout("no complete answer within upstream.total_timeout")
            case .remoteConnectionClosed:
                return .upstreamBadResponse("the upstream closed the connection before answering")
            default:
                return .upstreamUnreachable("\(error)")
            }
        }
        return .upstreamUnreachable("\(error)")
    }
}
