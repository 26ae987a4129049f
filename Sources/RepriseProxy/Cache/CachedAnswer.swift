import NIOCore
import NIOHTTP1
import RepriseCore
import RepriseRedis
import Synchronization

/// The form in which an answer is replayed to a client.
enum ReplayShape: Hashable, Sendable {
    /// One JSON document (`"stream": false`).
    case json
    /// Server-sent events ending in `data: [DONE]`; with or without the usage chunk the
    /// request asked for in `stream_options.include_usage`. (A Responses API stream has named
    /// events, no `[DONE]` and no usage option: its requests always ask `includeUsage: false`.)
    case stream(includeUsage: Bool)
}

/// A stored answer ready to be written: the response bytes of each shape it was asked in,
/// pre-encoded once (status line, kept headers, content-length, body) so a hit writes stored
/// `ByteBuffer`s without re-encoding anything.
final class CachedAnswer: Sendable {
    struct Encoded: Sendable {
        /// Status line and headers, without `age`, `connection` and the blank line that ends them.
        var head: ByteBuffer
        var body: ByteBuffer
        var contentType: String
    }

    let entry: CacheEntry
    /// Which API answered: picks the stream encoding and the shape converters.
    private let format: AnswerFormat
    /// Bytes this answer holds in memory (the L1 budget counts it).
    let cost: Int
    private let nativeShape: ReplayShape
    private let native: Encoded
    /// Shapes converted on demand (a JSON request answered from a stream, ...), kept for the
    /// next hit. Converting is the slow path; serving a kept conversion is not.
    private let converted = Mutex<[ReplayShape: Encoded]>([:])

    init(entry: CacheEntry) {
        self.entry = entry
        let format = entry.answerFormat
        self.format = format
        switch entry.body {
        case .json(let bytes):
            nativeShape = .json
            native = Self.encode(entry: entry, contentType: Self.contentType(of: entry, fallback: "application/json"), body: bytes)
        case .events(let events):
            let hasUsage = format == .chatCompletions && events.contains(where: Self.isUsageChunk)
            nativeShape = .stream(includeUsage: hasUsage)
            native = Self.encode(entry: entry, contentType: "text/event-stream; charset=utf-8", body: Self.encodeStream(events, format: format))
        }
        cost = native.head.readableBytes + native.body.readableBytes + entry.approximateByteCount
    }

    /// The bytes for `shape`, converting from the stored shape when they differ.
    func encoded(for shape: ReplayShape) throws(ShapeConversionError) -> Encoded {
        var shape = shape
        // A Responses stream has no usage option (usage is in its last event): any streaming
        // request wants the one stream there is.
        if format == .responses, case .stream = shape { shape = .stream(includeUsage: false) }
        if shape == nativeShape { return native }
        if let done = converted.withLock({ $0[shape] }) { return done }
        let body: [UInt8]
        let contentType: String
        switch (entry.body, shape) {
        case (.json(let json), .stream(let includeUsage)):
            body = try synthesizedStream(from: json, includeUsage: includeUsage)
            contentType = "text/event-stream; charset=utf-8"
        case (.events(let events), .json):
            body = try assembledDocument(from: events)
            contentType = "application/json"
        case (.events(let events), .stream(let includeUsage)):
            // Recorded with the other usage choice: rebuild the stream through the assembled
            // document so the usage chunk is present exactly when asked for.
            body = try synthesizedStream(from: assembledDocument(from: events), includeUsage: includeUsage)
            contentType = "text/event-stream; charset=utf-8"
        case (.json, .json):
            return native
        }
        let encoded = Self.encode(entry: entry, contentType: contentType, body: body)
        converted.withLock { $0[shape] = encoded }
        return encoded
    }

    /// The JSON document a non-streamed request would have received, from recorded events.
    private func assembledDocument(from events: [[UInt8]]) throws(ShapeConversionError) -> [UInt8] {
        switch format {
        case .chatCompletions: try StreamAssembler.assemble(events: events)
        case .responses: try ResponsesStreamAssembler.assemble(events: events)
        }
    }

    /// The stream bytes a streamed request would have received, from a JSON document.
    private func synthesizedStream(from json: [UInt8], includeUsage: Bool) throws(ShapeConversionError) -> [UInt8] {
        switch format {
        case .chatCompletions:
            SSEEncoder.encodeStream(events: try StreamSynthesizer.synthesize(json: json, includeUsage: includeUsage))
        case .responses:
            SSEEncoder.encodeResponsesStream(events: try ResponsesStreamSynthesizer.synthesize(json: json))
        }
    }

    /// Recorded events as a stream of their API: `data:` chunks and `[DONE]`, or named events.
    private static func encodeStream(_ events: [[UInt8]], format: AnswerFormat) -> [UInt8] {
        switch format {
        case .chatCompletions: SSEEncoder.encodeStream(events: events)
        case .responses: SSEEncoder.encodeResponsesStream(events: events)
        }
    }

    /// The usage-only chunk OpenAI sends last when `include_usage` is set: `"choices":[]`.
    private static func isUsageChunk(_ data: [UInt8]) -> Bool {
        let needle = Array(#""choices":[]"#.utf8)
        guard data.count >= needle.count else { return false }
        for start in 0...(data.count - needle.count) where data[start] == needle[0] {
            if data[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    private static func contentType(of entry: CacheEntry, fallback: String) -> String {
        entry.headers.first { isContentType($0.name.utf8) }?.value ?? fallback
    }

    /// `name` is `Content-Type` in any case, compared on bytes (no lowercased copy per header).
    static func isContentType(_ name: some Collection<UInt8>) -> Bool {
        let expected: StaticString = "content-type"
        guard name.count == expected.utf8CodeUnitCount else { return false }
        var index = 0
        for byte in name {
            let lower = expected.utf8Start[index]
            // Only letters fold: `-` must match itself (0x0D | 0x20 is `-` too).
            guard byte == lower || (lower != UInt8(ascii: "-") && byte | 0x20 == lower) else { return false }
            index += 1
        }
        return true
    }

    /// The stored head is written straight into its buffer (no `HTTPHeaders` built per answer:
    /// every stored miss makes one).
    private static func encode(entry: CacheEntry, contentType: String, body: [UInt8]) -> Encoded {
        var contentTypeValue = contentType
        let head = contentTypeValue.withUTF8 { contentTypeBytes in
            let headerBytes = entry.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
            return writeHead(status: entry.status, contentType: UnsafeRawBufferPointer(contentTypeBytes), headerBytes: headerBytes,
                             bodyLength: body.count) { writeHeader in
                for header in entry.headers where !isContentType(header.name.utf8) {
                    var name = header.name, value = header.value
                    name.withUTF8 { name in
                        value.withUTF8 { value in writeHeader(UnsafeRawBufferPointer(name), UnsafeRawBufferPointer(value)) }
                    }
                }
            }
        }
        return Encoded(head: head, body: ByteBuffer(bytes: body), contentType: contentType)
    }

    /// A stored head, allocated at its size: the status line, the content type, the other kept
    /// headers (`otherHeaders` hands each to the writer it is given; `headerBytes` bounds them:
    /// every kept header's name and value plus 4 each), `x-cache` and the framing. `age`,
    /// `connection` and the end of the head are written per response.
    static func writeHead(
        status: Int, contentType: UnsafeRawBufferPointer, headerBytes: Int, bodyLength: Int,
        otherHeaders: (_ writeHeader: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) -> Void
    ) -> ByteBuffer {
        let statusLineBytes = 64
        let linesBytes = 16 + contentType.count + headerBytes + 16 + 16 + RawByteWriter.maxDecimalBytes + 2
        var head = ByteBufferAllocator().buffer(capacity: statusLineBytes + linesBytes)
        ResponseHeadEncoder.writeStatusLine(HTTPResponseStatus(statusCode: status), into: &head)
        head.writeRaw(maximum: linesBytes) { writer in
            writer.append("content-type: ")
            writer.append(contentType)
            writer.append("\r\n")
            otherHeaders { name, value in writer.appendHeader(name: name, value: value) }
            writer.append("x-cache: ")
            writer.appendUTF8(CacheStatus.hit.headerValue)
            writer.append("\r\ncontent-length: ")
            writer.appendDecimal(bodyLength)
            writer.append("\r\n")
        }
        return head
    }
}
