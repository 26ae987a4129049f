import NIOCore
import RepriseHTTP

/// What a `RequestHeadParser` made of some bytes, as comparable text: heads with their parts
/// and framing, body bytes (consecutive pieces joined: reads split a body anywhere), ends with
/// trailers, and the error's kind last.
struct ParsedEvents: Equatable, CustomStringConvertible {
    var events: [String] = []
    var error: RequestParseError.Kind?

    var description: String { (events + [error.map { "error \($0)" } ?? "no error"]).joined(separator: "\n") }

    /// Feeds `pieces` one after the other into one parser (one buffer, as a connection does),
    /// then ends the input when `end` is true.
    static func of(_ pieces: [ArraySlice<UInt8>], limits: RequestHeadLimits = RequestHeadLimits(), end: Bool = true) -> ParsedEvents {
        let parser = RequestHeadParser(limits: limits)
        var buffer = ByteBuffer()
        var parsed = ParsedEvents()
        do {
            for piece in pieces {
                buffer.writeBytes(piece)
                while let event = try parser.next(&buffer) { parsed.add(event) }
            }
            if end { try parser.finish() }
        } catch {
            parsed.error = error.kind
        }
        return parsed
    }

    static func of(_ text: String, limits: RequestHeadLimits = RequestHeadLimits()) -> ParsedEvents {
        of([Array(text.utf8)[...]], limits: limits)
    }

    private mutating func add(_ event: RequestParseEvent) {
        switch event {
        case .head(let head):
            var text = "head \(head.string(head.method)) \(head.string(head.target)) HTTP/\(head.versionMajor).\(head.versionMinor)"
            for field in head.fields { text += " [\(head.string(field.name)): \(head.string(field.value))]" }
            let framing = head.framing
            text += " length=\(framing.contentLength.map(String.init) ?? "-") chunked=\(framing.isChunked) keepAlive=\(framing.keepAlive)"
            text += " upgrade=\(framing.isUpgrade) continue=\(framing.expectsContinue)"
            events.append(text)
        case .body(let bytes):
            if let last = events.last, last.hasPrefix("body ") {
                events[events.count - 1] = last + String(buffer: bytes)
            } else {
                events.append("body " + String(buffer: bytes))
            }
        case .end(let trailers):
            events.append("end" + (trailers?.fields.map { " [\(trailers!.string($0.name)): \(trailers!.string($0.value))]" }.joined() ?? ""))
        }
    }
}
