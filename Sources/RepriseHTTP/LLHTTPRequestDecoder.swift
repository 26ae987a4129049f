import NIOCore
import NIOHTTP1

/// A drop-in for `HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)` built on
/// `RequestHeadParser`: the same `HTTPServerRequestPart`s in the same order, the same
/// `HTTPParserError`s (the differential test in EndToEndTests/Hostile holds it to that).
public final class LLHTTPRequestDecoder: ByteToMessageDecoder {
    public typealias InboundOut = HTTPServerRequestPart

    private let parser: RequestHeadParser

    public init(limits: RequestHeadLimits = RequestHeadLimits()) {
        parser = RequestHeadParser(limits: limits)
    }

    public func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        do {
            while let event = try parser.next(&buffer) {
                context.fireChannelRead(wrapInboundOut(Self.part(of: event)))
            }
        } catch {
            throw Self.nioError(for: error, context: context)
        }
        return .needMoreData
    }

    public func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        guard !parser.isStopped else { return .needMoreData }
        if buffer.readableBytes > 0 { _ = try decode(context: context, buffer: &buffer) }
        if seenEOF {
            do {
                try parser.finish()
            } catch {
                throw Self.nioError(for: error, context: context)
            }
        }
        // Left-over bytes after an upgrade are dropped, as with `.dropBytes`.
        return .needMoreData
    }

    static func part(of event: RequestParseEvent) -> HTTPServerRequestPart {
        switch event {
        case .head(let head): .head(HTTPRequestHead(head))
        case .body(let bytes): .body(bytes)
        case .end(let trailers): .end(trailers.map { HTTPHeaders(fields: $0.fields, in: $0.bytes) })
        }
    }

    /// The error NIO's decoder throws for the same bytes. A version other than 1.x NIO also
    /// fires down the pipeline before throwing it, so the handler sees it twice; so here.
    static func nioError(for error: RequestParseError, context: ChannelHandlerContext) -> HTTPParserError {
        let nioError = HTTPParserError(error)
        if case .unsupportedVersion = error.kind { context.fireErrorCaught(nioError) }
        return nioError
    }
}

@available(*, unavailable)
extension LLHTTPRequestDecoder: Sendable {}
