import NIOCore

/// One SSE event framed for a chunked body, as the writes that carry it: one HTTP chunk by
/// default; with `Realism.splitWrites` 2-3 chunks written apart; with keep-alive comments, a
/// comment chunk first. Counted as one event by `X-Mock-Cut-After` and `--chunk-delay-ms`.
struct FramedEvent {
    var writes: [ByteBuffer]

    init(_ event: ServerSentEvent, realism: Realism, commentBefore: Bool) {
        let bytes = Array(event.text.utf8)
        var writes: [ByteBuffer] = []
        if commentBefore {
            writes.append(Self.chunk(Self.keepAliveComment[...]))
        }
        if realism.splitWrites {
            var start = 0
            for end in Self.splitPoints(bytes) + [bytes.count] {
                writes.append(Self.chunk(bytes[start..<end]))
                start = end
            }
        } else {
            writes.append(Self.chunk(bytes[...]))
        }
        self.writes = writes
    }

    private init(writes: [ByteBuffer]) {
        self.writes = writes
    }

    static let keepAliveComment = Array(": keep-alive\n\n".utf8)

    /// One HTTP chunk: size line, the bytes, CRLF.
    static func chunk(_ bytes: ArraySlice<UInt8>) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(bytes.count + 12)
        buffer.writeString(String(bytes.count, radix: 16))
        buffer.writeStaticString("\r\n")
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// Where a split event is cut, ascending: inside the first multi-byte character (after its
    /// lead byte) or else in the middle, and between the two newlines that end the event.
    static func splitPoints(_ bytes: [UInt8]) -> [Int] {
        guard bytes.count >= 4 else { return [] }
        let lastNewline = bytes.count - 1
        let inside = bytes.firstIndex { $0 >= 0xC0 }.map { $0 + 1 } ?? bytes.count / 2
        return inside < lastNewline ? [inside, lastNewline] : [bytes.count / 2, lastNewline]
    }

    /// The event cut short for `X-Mock-Truncate-Chunk`: its last chunk's size line announces
    /// the whole chunk while only half of its bytes follow.
    func truncated() -> FramedEvent? {
        guard var last = writes.last,
              let sizeLineEnd = last.readableBytesView.firstIndex(of: UInt8(ascii: "\n"))
        else { return nil }
        let sizeLineLength = sizeLineEnd - last.readerIndex + 1
        let payloadLength = last.readableBytes - sizeLineLength
        last.moveWriterIndex(to: last.readerIndex + sizeLineLength + payloadLength / 2)
        return FramedEvent(writes: writes.dropLast() + [last])
    }
}
