internal import CLLHTTP
import NIOCore

/// Drives llhttp over a connection's read buffer and hands out what it finds, one event at a
/// time: the head as ranges into its own bytes (no `String`, no header dictionary), then the
/// body bytes as slices of the buffer, then the end.
///
/// The caller keeps one buffer per connection, appends what it reads and calls `next` until it
/// returns nil. Bytes of a head still in progress stay in the buffer (their ranges are offsets
/// from its reader index); the parser moves the reader index past each event it returns.
/// Strict: llhttp in strict mode with no lenient flag, plus NIO's own checks (HTTP/1.x only,
/// no empty header name, the head's size and field count bounded by `limits`).
public final class RequestHeadParser {
    public let limits: RequestHeadLimits
    private var parser: OpaquePointer!
    /// Bytes past the buffer's reader index that llhttp has already read.
    private var fed = 0
    /// Bytes consumed since the connection began, for the offsets in errors.
    private var consumed = 0
    /// The first readable byte while llhttp runs: callbacks turn pointers into offsets with it.
    private var base: UnsafeRawPointer?
    private var ranges = HeadRangeBuilder()
    private var framing: RequestFraming?
    /// What the callback that paused llhttp found.
    private var pause: Pause?
    /// A refusal of our own, made in a callback (llhttp only sees -1).
    private var refusal: RequestParseError?
    /// llhttp stopped at an event and has more to do before it needs bytes (the end of a
    /// request that ends where the bytes do): the next `execute` runs even with none.
    private var isResuming = false
    /// Set after an upgrade request: what follows is not HTTP/1 and is never parsed.
    public private(set) var isStopped = false

    private enum Pause {
        case headComplete(methodCode: UInt8, major: Int, minor: Int)
        case body(HeadByteRange)
        case messageComplete
    }

    public init(limits: RequestHeadLimits = RequestHeadLimits()) {
        self.limits = limits
        // The context is unretained: the parser is freed in deinit, before `self` is gone.
        guard let parser = reprise_llhttp_create(LLHTTPCallbacks.handlers, Unmanaged.passUnretained(self).toOpaque()) else {
            fatalError("out of memory for an llhttp parser")
        }
        self.parser = parser
    }

    deinit {
        reprise_llhttp_destroy(parser)
    }

    static func of(_ context: UnsafeMutableRawPointer?) -> RequestHeadParser {
        Unmanaged<RequestHeadParser>.fromOpaque(context!).takeUnretainedValue()
    }

    /// The next event in `buffer`, or nil when the bytes so far hold none (read more and call
    /// again). Throws on bytes that are not a valid request, and again on every later call.
    public func next(_ buffer: inout ByteBuffer) throws(RequestParseError) -> RequestParseEvent? {
        if let refusal { throw refusal }
        while !isStopped, isResuming || fed < buffer.readableBytes {
            let code = buffer.withUnsafeReadableBytes { execute($0) }
            if let event = try event(after: code, in: &buffer) { return event }
        }
        return nil
    }

    /// The connection ended: throws when it ended inside a request.
    public func finish() throws(RequestParseError) {
        if let refusal { throw refusal }
        guard !isStopped else { return }
        guard reprise_llhttp_finish(parser) == REPRISE_LLHTTP_OK else {
            let error = RequestParseError(.endedInsideRequest, reason: String(cString: reprise_llhttp_reason(parser)), offset: consumed + fed)
            refusal = error
            throw error
        }
    }

    private func execute(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        // An empty buffer may have no address; llhttp needs one (a NULL start would lose a span
        // in progress), and reads nothing from it.
        let start = bytes.baseAddress ?? UnsafeRawPointer(Self.noBytes)
        base = start
        defer { base = nil }
        var stoppedAt = 0
        let code = reprise_llhttp_execute(parser, (start + fed).assumingMemoryBound(to: CChar.self), bytes.count - fed, &stoppedAt)
        fed += stoppedAt
        isResuming = code == REPRISE_LLHTTP_PAUSED
        if isResuming { reprise_llhttp_resume(parser) }
        return code
    }

    nonisolated(unsafe) private static let noBytes = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

    private func event(after code: Int32, in buffer: inout ByteBuffer) throws(RequestParseError) -> RequestParseEvent? {
        switch code {
        case REPRISE_LLHTTP_OK:
            return nil
        case REPRISE_LLHTTP_PAUSED:
            defer { pause = nil }
            switch pause {
            case .headComplete(let methodCode, let major, let minor):
                return .head(takeHead(methodCode: methodCode, major: major, minor: minor, from: &buffer))
            case .body(let range):
                buffer.moveReaderIndex(forwardBy: range.start)
                let slice = buffer.readSlice(length: range.count)!
                consume(range.end)
                return .body(slice)
            case .messageComplete:
                var trailers: ParsedTrailers?
                if !ranges.trailers.isEmpty {
                    trailers = ParsedTrailers(bytes: buffer.getSlice(at: buffer.readerIndex, length: fed)!, fields: ranges.trailers)
                }
                buffer.moveReaderIndex(forwardBy: fed)
                consume(fed)
                isStopped = framing?.isUpgrade ?? false
                framing = nil
                return .end(trailers: trailers)
            case nil:
                return nil
            }
        case REPRISE_LLHTTP_PAUSED_UPGRADE:
            isStopped = true
            return nil
        default:
            let error = refusal ?? RequestParseError(
                Self.llhttp9Kind(of: code, fields: ranges.fields, in: buffer),
                reason: String(cString: reprise_llhttp_reason(parser)),
                offset: consumed + fed
            )
            refusal = error
            throw error
        }
    }

    /// llhttp's error as llhttp 9 (NIO's) reports it: 8.1 calls a
    /// `Transfer-Encoding` after a `Content-Length` an unexpected Content-Length, 9 an invalid
    /// Transfer-Encoding; a `Content-Length` after a `Transfer-Encoding` the same, 9 an invalid
    /// Content-Length.
    private static func llhttp9Kind(of code: Int32, fields: [HeaderFieldRange], in buffer: ByteBuffer) -> RequestParseError.Kind {
        let lastField = fields.last
        let name = String(cString: reprise_llhttp_errno_name(code))
        guard name == "HPE_UNEXPECTED_CONTENT_LENGTH" else { return .llhttp(code: code, name: name) }
        if let lastField, buffer.headBytes(lastField.name, equalIgnoringASCIICase: "transfer-encoding") {
            return .llhttp(code: 15, name: "HPE_INVALID_TRANSFER_ENCODING")
        }
        if fields.contains(where: { buffer.headBytes($0.name, equalIgnoringASCIICase: "transfer-encoding") }) {
            return .llhttp(code: 11, name: "HPE_INVALID_CONTENT_LENGTH")
        }
        return .llhttp(code: code, name: name)
    }

    private func takeHead(methodCode: UInt8, major: Int, minor: Int, from buffer: inout ByteBuffer) -> ParsedRequestHead {
        let bytes = buffer.readSlice(length: fed)!
        consume(fed)
        let fields = ranges.fields
        var framing = self.framing!
        framing.expectsContinue = fields.contains {
            bytes.headBytes($0.name, equalIgnoringASCIICase: "expect") && bytes.headBytes($0.value, equalIgnoringASCIICase: "100-continue")
        }
        self.framing = framing
        let empty = HeadByteRange(start: 0, count: 0)
        return ParsedRequestHead(
            bytes: bytes, method: ranges.method ?? empty, target: ranges.target ?? empty,
            versionMajor: major, versionMinor: minor, fields: fields, framing: framing, methodCode: methodCode
        )
    }

    private func consume(_ count: Int) {
        fed -= count
        consumed += count
    }

    // MARK: Called by llhttp (LLHTTPCallbacks)

    func messageBegan() -> Int32 {
        ranges.reset()
        return 0
    }

    func span(_ part: HeadRangeBuilder.Part, _ at: UnsafePointer<CChar>?, _ count: Int) -> Int32 {
        let start = UnsafeRawPointer(at!) - base!
        do {
            try ranges.add(part, start: start, count: count, limits: limits)
            return 0
        } catch .folded {
            return refuse(.foldedHeaderLine, "a header value continued on the next line (obs-fold)", at: start)
        } catch {
            return refuse(.headTooLarge, "over \(limits) (a field, the whole head or the number of fields)", at: start)
        }
    }

    func partEnded() -> Int32 {
        ranges.partEnded()
        return 0
    }

    func nameEnded() -> Int32 {
        do {
            try ranges.nameEnded()
            return 0
        } catch {
            return refuse(.emptyHeaderName, "a header line with an empty name", at: fed)
        }
    }

    func valueEnded() -> Int32 {
        ranges.valueEnded()
        return 0
    }

    func headersComplete() -> Int32 {
        let facts = reprise_llhttp_facts(parser)
        let major = Int(facts.http_major)
        guard major == 1 else {
            return refuse(.unsupportedVersion(major: major), "HTTP/\(major).\(facts.http_minor)", at: fed)
        }
        framing = RequestFraming(
            contentLength: facts.has_content_length != 0 ? facts.content_length : nil,
            isChunked: facts.is_chunked != 0,
            keepAlive: facts.keep_alive != 0,
            isUpgrade: facts.is_upgrade != 0,
            expectsContinue: false
        )
        ranges.isPastHead = true
        pause = .headComplete(methodCode: facts.method, major: major, minor: Int(facts.http_minor))
        return REPRISE_LLHTTP_PAUSED
    }

    func body(_ at: UnsafePointer<CChar>?, _ count: Int) -> Int32 {
        // llhttp ends a span at the end of each `execute`, an empty one too when it had no bytes.
        guard count > 0 else { return 0 }
        pause = .body(HeadByteRange(start: UnsafeRawPointer(at!) - base!, count: count))
        return REPRISE_LLHTTP_PAUSED
    }

    func messageComplete() -> Int32 {
        // As NIO does (nodejs/llhttp#202): a length left from this request must not carry over.
        reprise_llhttp_clear_content_length(parser)
        pause = .messageComplete
        return REPRISE_LLHTTP_PAUSED
    }

    private func refuse(_ kind: RequestParseError.Kind, _ reason: String, at offset: Int) -> Int32 {
        refusal = RequestParseError(kind, reason: reason, offset: consumed + offset)
        return -1
    }
}
