import NIOCore

/// What the connection handler writes for one request, fully encoded before the first byte
/// goes out: the handler only sequences writes, delays and closes.
struct ResponsePlan {
    enum Body {
        /// Head and body in one buffer; `bodyOffset` is where the body starts (for cut-half).
        case whole(ByteBuffer, bodyOffset: Int)
        /// The head, then each SSE event already framed as HTTP chunks.
        case stream(head: ByteBuffer, events: [FramedEvent])
        /// `X-Mock-Hang`: nothing is ever written.
        case hang
    }

    var body: Body
    var delayBeforeHead: TimeAmount = .zero
    var chunkDelay: TimeAmount = .zero
    /// `Realism.splitWrites`: the pause between the writes of one event.
    var pauseBetweenWrites: TimeAmount = .zero
    /// `Realism.endDelayMilliseconds`: the pause before a stream's terminating chunk.
    var endDelay: TimeAmount = .zero
    /// `X-Mock-Cut-After`: close after this many events (stream) or after half the body (JSON).
    var cutAfter: Int?
    var keepAlive: Bool

    static let endOfChunks = ByteBuffer(string: "0\r\n\r\n")
}

extension ResponsePlan.Body {
    /// The same answer without its body bytes (for HEAD).
    var headOnly: ResponsePlan.Body {
        switch self {
        case .whole(let buffer, let bodyOffset):
            return .whole(buffer.getSlice(at: buffer.readerIndex, length: bodyOffset) ?? buffer, bodyOffset: bodyOffset)
        case .stream(let head, _):
            return .whole(head, bodyOffset: head.readableBytes)
        case .hang:
            return .hang
        }
    }

    /// A whole answer without its `content-length` line and with `connection: close`: its end
    /// is the end of the connection. Nil for streams and hangs.
    var closeDelimited: ResponsePlan.Body? {
        guard case .whole(let buffer, let bodyOffset) = self,
              let head = buffer.getString(at: buffer.readerIndex, length: bodyOffset),
              let body = buffer.getSlice(at: buffer.readerIndex + bodyOffset, length: buffer.readableBytes - bodyOffset)
        else { return nil }
        var lines = head.components(separatedBy: "\r\n").filter {
            !$0.isEmpty && !$0.lowercased().hasPrefix("content-length:") && !$0.lowercased().hasPrefix("connection:")
        }
        lines.append("connection: close")
        var rebuilt = ByteBuffer(string: lines.joined(separator: "\r\n") + "\r\n\r\n")
        let newOffset = rebuilt.readableBytes
        var bodyBytes = body
        rebuilt.writeBuffer(&bodyBytes)
        return .whole(rebuilt, bodyOffset: newOffset)
    }
}

/// Encodes status lines and headers by hand: the mock writes pre-encoded bytes instead of going
/// through `HTTPResponseEncoder`, which is most of a small server's per-request cost.
enum ResponseBytes {
    static func head(
        status: Int,
        reason: String,
        contentType: String,
        contentLength: Int?,
        extraHeaders: [(String, String)] = [],
        keepAlive: Bool
    ) -> String {
        var head = "HTTP/1.1 \(status) \(reason)\r\ncontent-type: \(contentType)\r\n"
        if let contentLength {
            head += "content-length: \(contentLength)\r\n"
        } else {
            head += "transfer-encoding: chunked\r\ncache-control: no-cache\r\n"
        }
        for (name, value) in extraHeaders {
            head += name + ": " + value + "\r\n"
        }
        if !keepAlive {
            head += "connection: close\r\n"
        }
        return head + "\r\n"
    }

    static func whole(
        status: Int,
        reason: String,
        json: String,
        extraHeaders: [(String, String)] = [],
        keepAlive: Bool
    ) -> ResponsePlan.Body {
        let head = head(
            status: status,
            reason: reason,
            contentType: "application/json",
            contentLength: json.utf8.count,
            extraHeaders: extraHeaders,
            keepAlive: keepAlive
        )
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.utf8.count + json.utf8.count)
        let bodyOffset = buffer.writeString(head)
        buffer.writeString(json)
        return .whole(buffer, bodyOffset: bodyOffset)
    }

    static func stream(
        events: [ServerSentEvent],
        realism: Realism,
        extraHeaders: [(String, String)] = [],
        keepAlive: Bool
    ) -> ResponsePlan.Body {
        let head = head(
            status: 200,
            reason: "OK",
            contentType: "text/event-stream; charset=utf-8",
            contentLength: nil,
            extraHeaders: extraHeaders,
            keepAlive: keepAlive
        )
        let framed = events.enumerated().map { index, event in
            FramedEvent(event, realism: realism, commentBefore: realism.keepAliveComments && index % 3 == 0)
        }
        return .stream(head: ByteBuffer(string: head), events: framed)
    }
}

/// OpenAI's error document: `{"error":{"message","type","param","code"}}`.
enum OpenAIError {
    static func json(message: String, type: String, code: String?, param: String? = nil) -> String {
        "{\"error\":{\"message\":\(JSONText.quoted(message)),\"type\":\(JSONText.quoted(type)),"
            + "\"param\":\(param.map(JSONText.quoted) ?? "null"),\"code\":\(code.map(JSONText.quoted) ?? "null")}}"
    }
}
