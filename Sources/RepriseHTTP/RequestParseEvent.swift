import NIOCore

/// What `RequestHeadParser.next` found next in the bytes, in order: a head, its body bytes
/// (chunked transfer coding removed), the end with the trailers if any.
public enum RequestParseEvent: Equatable {
    case head(ParsedRequestHead)
    /// Body bytes: a slice of the read buffer, not a copy.
    case body(ByteBuffer)
    /// The request is complete; `trailers` holds the trailer lines of a chunked body.
    case end(trailers: ParsedTrailers?)
}

/// The trailer lines after a chunked body: ranges into `bytes` (the framing bytes from the
/// last body byte to the end of the request).
public struct ParsedTrailers: Equatable {
    public let bytes: ByteBuffer
    public let fields: [HeaderFieldRange]
}
