import NIOCore
import RepriseHTTP

/// `RequestHeadParser` (llhttp) on arbitrary bytes, whole and cut at seeded points: never traps;
/// every range lies inside its head's bytes; the events and the error do not depend on the
/// cutting; the body bytes never exceed the input.
enum HTTPRequestFuzz {
    static let limits = RequestHeadLimits(maxFieldBytes: 1024, maxHeadBytes: 2048, maxFieldCount: 32)

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let seed = input.byte()
        let stream = input.rest
        let whole = events(of: [stream[...]])
        let cut = events(of: FuzzInput.pieces(of: stream, seed: seed, maxPiece: 32))
        precondition(whole == cut, "the events depend on where the bytes were cut:\n\(whole)\n\(cut)")
        let bodyBytes = whole.reduce(0) { $0 + ($1.hasPrefix("body ") ? Int($1.dropFirst(5))! : 0) }
        precondition(bodyBytes <= stream.count, "more body bytes than input")
    }

    /// Each event as text, the error (kind only: its offset is the same either way) last.
    static func events(of pieces: [ArraySlice<UInt8>]) -> [String] {
        let parser = RequestHeadParser(limits: limits)
        var buffer = ByteBuffer()
        var events: [String] = []
        do {
            for piece in pieces {
                buffer.writeBytes(piece)
                while let event = try parser.next(&buffer) { append(describe(event), to: &events) }
            }
            try parser.finish()
        } catch {
            events.append("error \(error.kind)")
        }
        return events
    }

    /// Adds `event`, adding up the lengths of consecutive body events (a body is split where
    /// the reads end).
    static func append(_ event: String, to events: inout [String]) {
        if event.hasPrefix("body "), let last = events.last, last.hasPrefix("body ") {
            events[events.count - 1] = "body \(Int(last.dropFirst(5))! + Int(event.dropFirst(5))!)"
        } else {
            events.append(event)
        }
    }

    static func describe(_ event: RequestParseEvent) -> String {
        switch event {
        case .head(let head):
            var text = "head \(head.string(head.method)) \(head.string(head.target)) \(head.versionMajor).\(head.versionMinor) \(head.framing)"
            for range in [head.method, head.target] + head.fields.flatMap({ [$0.name, $0.value] }) {
                precondition(range.start >= 0 && range.count >= 0 && range.end <= head.bytes.readableBytes, "a range outside the head")
            }
            for field in head.fields { text += " [\(head.string(field.name))=\(head.string(field.value))]" }
            return text
        case .body(let bytes):
            return "body \(bytes.readableBytes)"
        case .end(let trailers):
            return "end \(trailers.map { t in t.fields.map { "\(t.string($0.name))=\(t.string($0.value))" } } ?? [])"
        }
    }
}
