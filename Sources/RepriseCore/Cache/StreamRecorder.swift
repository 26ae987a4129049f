/// The entry builder of the streaming tee: fed the SSE bytes exactly as they go to the client,
/// it keeps what a cache entry needs and decides at the end whether the stream may be stored.
///
/// Stored only when the stream completed, the status was 2xx, the recorded size stayed within
/// `maxBytes`, and the bytes parsed as SSE. Completed means the stream's last event arrived:
/// - Chat Completions / Completions: `[DONE]` seen *and* a non-null `finish_reason` seen;
/// - Responses API (events whose data carry `"type": "response.…"`, no `[DONE]`):
///   `response.completed`, or `response.incomplete` — a finished answer cut by
///   `max_output_tokens` or a content filter, stored like a chat answer with
///   `finish_reason: "length"`. `response.failed` or an `error` event makes the stream
///   unstorable.
/// Nothing may follow the last event, and one stream never mixes the two kinds (malformed).
/// A cut stream or a disconnected client simply never calls `finish` (or gets nil from it).
/// Not thread-safe: one per response, used on its event loop.
public struct StreamRecorder: Sendable {
    public let maxBytes: Int
    private var parser: SSEParser
    private var events: [[UInt8]] = []
    private var recordedBytes = 0
    public private(set) var doneSeen = false
    public private(set) var finishReasonSeen = false
    /// Responses API: `response.completed` or `response.incomplete` arrived.
    public private(set) var terminalEventSeen = false
    /// Responses API: `response.failed` or an `error` event arrived — the upstream reports a
    /// failure; replaying it would repeat the failure until the entry expires.
    public private(set) var failed = false
    public private(set) var overLimit = false
    public private(set) var malformed = false
    /// The API the stream answers, decided by its first event (nil before any).
    public private(set) var format: AnswerFormat?
    public private(set) var model: String?
    public private(set) var usage: CacheEntry.Usage?
    /// Raw SSE bytes fed so far.
    public private(set) var totalBytes = 0

    public init(maxBytes: Int, maxLineBytes: Int = 4 << 20) {
        self.maxBytes = maxBytes
        self.parser = SSEParser(maxLineBytes: min(maxLineBytes, max(maxBytes, 1)))
    }

    /// Whether `finish` could still produce an entry (lets the tee stop recording early).
    public var isRecordable: Bool { !overLimit && !malformed && !failed }

    /// The stream's last event arrived (`[DONE]` after a `finish_reason`; for the Responses API
    /// `response.completed` or `response.incomplete`): the answer is whole, whatever happens to
    /// the connection afterwards. Recorded within bounds, it may be stored.
    public var isComplete: Bool {
        switch format {
        case .chatCompletions: doneSeen && finishReasonSeen
        case .responses: terminalEventSeen
        case nil: false
        }
    }

    /// Feeds the next slice of the upstream's SSE body.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        guard isRecordable else { return }
        let parsed: [SSEEvent]
        do {
            parsed = try parser.feed(bytes)
        } catch {
            refuse(\.malformed)
            return
        }
        for event in parsed {
            totalBytes += event.data.count
            if event.data == SSEEncoder.doneData {
                // A Responses stream ends with its terminal event and never sends `[DONE]`.
                guard format != .responses else { return refuse(\.malformed) }
                format = .chatCompletions
                doneSeen = true
                continue
            }
            // Nothing may follow the last event.
            if doneSeen || terminalEventSeen { return refuse(\.malformed) }
            recordedBytes += event.data.count
            guard recordedBytes <= maxBytes else { return refuse(\.overLimit) }
            let fields = ResponseFields(json: event.data)
            let eventFormat: AnswerFormat = fields.isResponsesEvent ? .responses : .chatCompletions
            if let format, format != eventFormat { return refuse(\.malformed) }
            format = eventFormat
            switch eventFormat {
            case .chatCompletions:
                if let chunkModel = fields.model, model == nil { model = chunkModel }
                if let chunkUsage = fields.usage { usage = chunkUsage }
                if fields.finishReasonSeen { finishReasonSeen = true }
            case .responses:
                switch fields.eventType {
                case "response.completed", "response.incomplete":
                    terminalEventSeen = true
                    // The terminal event carries the whole response: its model and usage.
                    if let start = fields.responseStart {
                        let response = ResponseFields(json: event.data, objectAt: start)
                        model = response.model
                        usage = response.usage
                    }
                case "response.failed", "error":
                    return refuse(\.failed)
                default:
                    break
                }
            }
            events.append(event.data)
        }
    }

    /// Marks the stream unstorable for `reason` and releases what was recorded.
    private mutating func refuse(_ reason: WritableKeyPath<StreamRecorder, Bool>) {
        self[keyPath: reason] = true
        events = []
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
    /// The entry for a non-streamed answer, or nil unless 2xx, within `maxBytes` and a JSON
    /// object. A Responses object (`"object": "response"`) is stored only when its `status` is
    /// `completed` or `incomplete` (finished, possibly cut by `max_output_tokens`): a `queued` or
    /// `in_progress` one (background mode) is a snapshot of work still running, a `failed` one
    /// a failure.
    public static func forJSONResponse(status: Int, headers: [(name: String, value: String)], body: [UInt8],
                                       nowMs: Int64, ttlMs: Int64, maxBytes: Int) -> CacheEntry? {
        guard (200 ..< 300).contains(status), body.count <= maxBytes, ttlMs > 0 else { return nil }
        // One scan: listing the top-level members both checks for an object and finds the fields.
        let fields = ResponseFields(json: body)
        guard fields.isObject else { return nil }
        if fields.object == "response" {
            guard fields.status == "completed" || fields.status == "incomplete" else { return nil }
        }
        return CacheEntry(status: status, headers: keptHeaders(from: headers), createdAtMs: nowMs, ttlMs: ttlMs,
                          model: fields.model, usage: fields.usage, body: .json(body))
    }
}
