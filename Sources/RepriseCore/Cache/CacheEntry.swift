/// A cached answer (DESIGN.md, cache entry contract).
public struct CacheEntry: Sendable, Equatable {
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct Usage: Sendable, Equatable {
        public var promptTokens: Int
        public var completionTokens: Int
        public var totalTokens: Int
        public init(promptTokens: Int, completionTokens: Int, totalTokens: Int) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.totalTokens = totalTokens
        }
    }

    public enum Body: Sendable, Equatable {
        /// One JSON document (non-streamed answer).
        case json([UInt8])
        /// The `data` payloads of the SSE events in order. The terminal `[DONE]` is *not* stored:
        /// an entry exists only for completed streams, so it is implied and appended on replay
        /// (`SSEEncoder.encodeStream`). Event names are not stored either: a Responses API
        /// stream's name is the `type` its data carries, written back on replay
        /// (`SSEEncoder.encodeResponsesStream`, no `[DONE]`).
        case events([[UInt8]])

        public var byteCount: Int {
            switch self {
            case .json(let bytes): bytes.count
            case .events(let events): events.reduce(0) { $0 + $1.count }
            }
        }
    }

    public var status: Int
    /// Kept response headers only (`keptHeaders(from:)`).
    public var headers: [Header]
    /// Unix time of storage, milliseconds.
    public var createdAtMs: Int64
    /// Time to live, milliseconds.
    public var ttlMs: Int64
    public var model: String?
    public var usage: Usage?
    public var body: Body
    /// `CacheKey.digest` of the key the entry was stored under (empty until stored). The digest
    /// frames the namespace with the rest of the scope, so it names the whole key: a lookup
    /// under any other key refuses the entry (`isStored(under:)`) — a value copied between Redis
    /// keys, or a store under the wrong key, never answers another question or tenant.
    public var keyDigest: String

    public init(status: Int, headers: [Header], createdAtMs: Int64, ttlMs: Int64, model: String?, usage: Usage?, body: Body,
                keyDigest: String = "") {
        self.keyDigest = keyDigest
        self.status = status
        self.headers = headers
        self.createdAtMs = createdAtMs
        self.ttlMs = ttlMs
        self.model = model
        self.usage = usage
        self.body = body
    }

    /// Storage time and time to live, with the age and expiry arithmetic.
    public var lifetime: CacheEntryLifetime { CacheEntryLifetime(createdAtMs: createdAtMs, ttlMs: ttlMs) }

    public func ageSeconds(nowMs: Int64) -> Int { lifetime.ageSeconds(nowMs: nowMs) }
    public var expiresAtMs: Int64 { lifetime.expiresAtMs }
    public func isExpired(nowMs: Int64) -> Bool { lifetime.isExpired(nowMs: nowMs) }
    public func remainingMs(nowMs: Int64) -> Int64 { lifetime.remainingMs(nowMs: nowMs) }

    /// The entry belongs to `key`: one `memcmp` of two 64-byte digests, no allocation, cheap
    /// enough for every L1 hit.
    public func isStored(under key: CacheKey) -> Bool {
        !keyDigest.isEmpty && keyDigest.hasSameUTF8(as: key.digest)
    }

    /// No header name or value holds CR, LF or NUL: replayed from pre-encoded bytes, such a value
    /// would end the header block early and let the upstream (or whoever wrote Redis) inject
    /// headers or a body into every answer served from this entry.
    public var hasSafeHeaders: Bool {
        headers.allSatisfy { !Self.hasLineBreakOrNUL($0.name) && !Self.hasLineBreakOrNUL($0.value) }
    }

    static func hasLineBreakOrNUL(_ text: String) -> Bool {
        CacheEntryLayout.hasLineBreakOrNUL(text.utf8)
    }

    /// A JSON answer whose top level has an `error` member: an upstream (or a gateway in front
    /// of it) that reports a failure with status 200. Never stored: it would replay the failure
    /// until the entry expires. A Responses object (`"object": "response"`) always carries `error`,
    /// `null` when it succeeded (its failure is `"status": "failed"`, which
    /// `forJSONResponse` refuses): only a non-null one is an error there.
    public static func isErrorDocument(json: [UInt8]) -> Bool {
        let scanner = JSONFieldScanner(bytes: json)
        guard let members = scanner.members(ofObjectAt: 0), let error = scanner.member("error", in: members) else { return false }
        guard scanner.isNull(error) else { return true }
        let object = scanner.member("object", in: members).flatMap(scanner.simpleString)
        return object != "response"
    }

    /// Which API the stored answer belongs to (Chat Completions or the Responses API), read
    /// from the body: a JSON `"object": "response"`, or a first event whose data has
    /// `"type": "response.…"`. Scans one document or one event; `CachedAnswer` asks once.
    public var answerFormat: AnswerFormat {
        switch body {
        case .json(let json): AnswerFormat(json: json)
        case .events(let events): AnswerFormat(events: events)
        }
    }

    /// Approximate memory cost, for the L1 byte budget.
    public var approximateByteCount: Int {
        body.byteCount + headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 32 }
            + (model?.utf8.count ?? 0) + (body.eventCount * 16) + 128
    }

    /// Response headers worth replaying. An allowlist, not a denylist: every per-request header
    /// (`date`, `x-request-id`, `openai-processing-ms`, `set-cookie`, rate-limit counters, hop-by-hop
    /// and framing headers like `content-length` / `transfer-encoding` / `connection`, vendor
    /// trace ids) is dropped without having to be known by name.
    public static let keptHeaderNames: Set<String> = ["content-type", "content-language"]

    public static func keptHeaders(from headers: [(name: String, value: String)], keep: Set<String> = keptHeaderNames) -> [Header] {
        headers.compactMap { keep.contains($0.name.lowercased()) ? Header(name: $0.name.lowercased(), value: $0.value) : nil }
    }
}

extension CacheEntry.Body {
    var eventCount: Int {
        if case .events(let events) = self { return events.count }
        return 0
    }
}
