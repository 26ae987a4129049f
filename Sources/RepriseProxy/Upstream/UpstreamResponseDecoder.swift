import NIOCore
import NIOHTTP1

/// NIO's HTTP response decoder, told each request's method by the connection instead of by
/// watching `HTTPClientRequestPart` writes go by: the connection writes its requests as bytes
/// (`UpstreamRequestEncoder`), so no request part passes the decoder, and wrapped this way the
/// decoder's handler is inbound only and lets those bytes through untouched.
///
/// The decoder needs the method of the request each answer belongs to (an answer to `HEAD` has
/// no body) and, without one, reports the answer as unsolicited.
struct UpstreamResponseDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart

    let base: HTTPResponseDecoder

    init() {
        // As `addHTTPClientHandlers` made it (limits, 1xx dropped). Left-over bytes matter only
        // when the decoder is removed, which the pool never does.
        base = HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes)
    }

    /// Call before writing a request: the next answer is to `method`.
    func expectAnswer(to method: HTTPMethod) {
        base.write(data: .head(Self.announcement(for: method)))
    }

    /// The decoder reads only the method of what it is told; one stored head per kind that
    /// matters spares an allocation per request.
    private static func announcement(for method: HTTPMethod) -> HTTPRequestHead {
        switch method {
        case .HEAD: headRequest
        case .CONNECT: connectRequest
        default: otherRequest
        }
    }

    private static let headRequest = HTTPRequestHead(version: .http1_1, method: .HEAD, uri: "/")
    private static let connectRequest = HTTPRequestHead(version: .http1_1, method: .CONNECT, uri: "/")
    private static let otherRequest = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")

    func decoderAdded(context: ChannelHandlerContext) {
        base.decoderAdded(context: context)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        base.decoderRemoved(context: context)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try base.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try base.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}
