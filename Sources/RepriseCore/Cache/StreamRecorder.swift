/// The entry builder of the streaming tee: fed the SSE bytes exactly as they go to the client,
/// it keeps what a cache entry needs and decides at the end whether the stream may be stored.
///
/// Stored only when the stream completed — `[DONE]` seen *and* a non-null `finish_reason` seen —
/// the status was 2xx, the recorded size stayed within `maxBytes`, and the bytes parsed as SSE.
/// A cut stream or a disconnected client simply never calls `finish` (or gets nil from it).
/// Not thread-safe: one per response, used on its event loop.
public struct StreamRecorder: Sendable {
    public let maxBytes: Int
    private var parser: SSEParser
    private var events: [[UInt8]] = []
    private var recordedBytes = 0
    public private(set) var doneSeen = false
    public private(set) var finishReasonSeen = false
    public private(set) var overLimit = false
    public private(set) var malformed = false
    public private(set) var model: String?
    public private(set) var usage: CacheEntry.Usage?
    /// Raw SSE bytes fed so far.
    public private(set) var totalBytes = 0

    public init(maxBytes: Int, maxLineBytes: Int = 4 << 20) {
        self.maxBytes = maxBytes
        self.parser = SSEParser(maxLineBytes: min(maxLineBytes, max(maxBytes, 1)))
    }

    /// Whether `finish` could still produce an entry (lets the tee stop recording early).
    public var isRecordable: Bool { !overLimit && !malformed }

    /// The stream's last event arrived (`[DONE]` after a `finish_reason`): the answer is whole,
    /// whatever happens to the connection afterwards. Recorded within bounds, it may be stored.
    public var isComplete: Bool { doneSeen && finishReasonSeen }

    /// Feeds the next slice of the upstream's SSE body.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        guard isRecordable else { return }
        let parsed: [SSEEvent]
        do {
            parsed = try parser.feed(bytes)
        } catch {
            malformed = true
            events = []
            return
        }
        for event in parsed {
            totalBytes += event.data.count
            if event.data == SSEEncoder.doneData {
                doneSeen = true
                continue
            }
            if doneSeen { malformed = true } // nothing may follow [DONE]
            recordedBytes += event.data.count
            guard recordedBytes <= maxBytes else {
                overLimit = true
                events = []
                return
            }
            let fields = ResponseFields(json: event.data)
            if let chunkModel = fields.model, model == nil { model = chunkModel }
            if let chunkUsage = fields.usage { usage = chunkUsage }
            if fields.finishReasonSeen { finishReasonSeen = true }
            events.append(event.data)
        }
    }

    /// The entry to store, or nil when the stream must not be stored.
    /// - Parameters:
    ///   - headers: the upstream response headers (filtered with `CacheEntry.keptHeaders`).
    ///   - nowMs: Unix milliseconds; `ttlMs`: entry TTL.
    public func finish(status: Int, headers: [(name: String, value: String)], nowMs: Int64, ttlMs: Int64) -> CacheEntry? {
        guard (200 ..< 300).contains(status), isRecordable, isComplete, ttlMs > 0 else { return nil }
        return CacheEntry(status: status, headers: CacheEntry.keptHeaders(from: headers), createdAtMs: nowMs, ttlMs: ttlMs,
                          model: model, usage: usage, body: .events(events))
    }
}

extension CacheEntry {
    /// The entry for a non-streamed answer, or nil unless 2xx, within `maxBytes` and a JSON object.
    public static func forJSONResponse(status: Int, headers: [(name: String, value: String)], body: [UInt8],
                                       nowMs: Int64, ttlMs: Int64, maxBytes: Int) -> CacheEntry? {
        guard (200 ..< 300).contains(status), body.count <= maxBytes, ttlMs > 0 else { return nil }
        // One scan: listing the top-level members both checks for an object and finds the fields.
        let fields = ResponseFields(json: body)
        guard fields.isObject else { return nil }
        return CacheEntry(status: status, headers: keptHeaders(from: headers), createdAtMs: nowMs, ttlMs: ttlMs,
                          model: fields.model, usage: fields.usage, body: .json(body))
    }
}
