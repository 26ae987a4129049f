import NIOCore
import RepriseRedis
import NIOHTTP1

/// How a response body is delimited on the wire.
enum BodyFraming: Equatable {
    /// `Content-Length: n`; the body bytes follow as they are.
    case contentLength(Int)
    /// `Transfer-Encoding: chunked`: each write becomes one chunk (SSE events stay events).
    case chunked
    /// No body at all (HEAD, 204, 304).
    case none
    /// No framing header: the body ends when the connection closes. For an HTTP/1.0 client
    /// (which cannot read chunked) when the length is not known in advance (a stream).
    case closeDelimited
}

/// Writes the status line and headers of a response straight into a `ByteBuffer`.
///
/// Reprise writes responses as bytes instead of going through NIOHTTP1's response encoder: a
/// stored answer is already bytes, and skipping the encoder saves most of the per-response
/// work (NOTES-PERF.md). Callers pass headers without framing or connection headers; this adds them.
enum ResponseHeadEncoder {
    static func encode(
        status: HTTPResponseStatus,
        headers: HTTPHeaders,
        framing: BodyFraming,
        keepAlive: Bool,
        announceKeepAlive: Bool = false,
        into buffer: inout ByteBuffer
    ) {
        encodeHead(status: status, headers: headers, framing: framing, into: &buffer)
        writeEnd(keepAlive: keepAlive, announceKeepAlive: announceKeepAlive, into: &buffer)
    }

    /// The status line and headers, without the connection header and the blank line (a stored
    /// answer keeps this part and adds the per-request rest).
    static func encodeHead(status: HTTPResponseStatus, headers: HTTPHeaders, framing: BodyFraming, into buffer: inout ByteBuffer) {
        writeStatusLine(status, into: &buffer)
        for (name, value) in headers {
            writeHeader(name: name, value: value, into: &buffer)
        }
        writeFraming(framing, into: &buffer)
    }

    static func writeStatusLine(_ status: HTTPResponseStatus, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("HTTP/1.1 ")
        writeDecimal(Int(status.code), into: &buffer)
        buffer.writeStaticString(" ")
        buffer.writeString(status.reasonPhrase.isEmpty ? "Status" : status.reasonPhrase)
        buffer.writeStaticString("\r\n")
    }

    static func writeHeader(name: String, value: String, into buffer: inout ByteBuffer) {
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    static func writeFraming(_ framing: BodyFraming, into buffer: inout ByteBuffer) {
        switch framing {
        case .contentLength(let length):
            buffer.writeStaticString("content-length: ")
            writeDecimal(length, into: &buffer)
            buffer.writeStaticString("\r\n")
        case .chunked:
            buffer.writeStaticString("transfer-encoding: chunked\r\n")
        case .none, .closeDelimited:
            break
        }
    }

    /// `connection: close` when the connection ends after this response, then the blank line.
    /// `announceKeepAlive` (for HTTP/1.0 clients, whose connections close unless the answer
    /// says otherwise) writes `connection: keep-alive` when it stays open.
    static func writeEnd(keepAlive: Bool, announceKeepAlive: Bool = false, into buffer: inout ByteBuffer) {
        buffer.writeRaw(maximum: maxEndBytes) { appendEnd(keepAlive: keepAlive, announceKeepAlive: announceKeepAlive, to: &$0) }
    }

    /// The head's last lines: `connection` when it must be said (closing, or kept alive for an
    /// HTTP/1.0 client, which assumes close), then the blank line. At most `maxEndBytes`.
    static func appendEnd(keepAlive: Bool, announceKeepAlive: Bool, to writer: inout RawByteWriter) {
        if !keepAlive {
            writer.append("connection: close\r\n")
        } else if announceKeepAlive {
            writer.append("connection: keep-alive\r\n")
        }
        writer.append("\r\n")
    }

    /// `connection: keep-alive\r\n\r\n`, the longest end.
    static let maxEndBytes = 26

    /// An integer in decimal digits (as `String(value)` spells it), written without building
    /// a String.
    static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        if value < 0 { buffer.writeStaticString("-") }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for the 19 digits of Int.min
        var count = 0
        var rest = value.magnitude
        withUnsafeMutableBytes(of: &digits) { scratch in
            repeat {
                count += 1
                scratch[scratch.count - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: scratch[(scratch.count - count)...]))
        }
    }

    /// The `<hex-size>\r\n` line that opens a chunk.
    static func writeChunkHeader(size: Int, into buffer: inout ByteBuffer) {
        buffer.writeString(String(size, radix: 16))
        buffer.writeStaticString("\r\n")
    }
}
