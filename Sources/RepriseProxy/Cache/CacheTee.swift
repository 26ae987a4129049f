import NIOCore
import NIOHTTP1
import RepriseCore

/// Records an upstream answer while it streams to the client, and stores it when — and only
/// when — it completed: a 2xx status, within `cache.max_entry_bytes`, and for a stream `[DONE]`
/// after a `finish_reason`. A cut stream, an upstream error or a client that left stores nothing.
///
/// Confined to the event loop of the client connection, like the relay that feeds it.
final class CacheTee {
    private enum Recording {
        case undecided
        case json(bytes: [UInt8])
        case stream(StreamRecorder)
        /// Not storable (status, content type, size): everything else is ignored.
        case abandoned
    }

    private let key: CacheKey
    private let ttlSeconds: Int
    private let cache: ResponseCache
    private var status = 0
    private var headers: [(name: String, value: String)] = []
    private var recording = Recording.undecided

    init(key: CacheKey, ttlSeconds: Int, cache: ResponseCache) {
        self.key = key
        self.ttlSeconds = ttlSeconds
        self.cache = cache
    }

    func head(_ head: HTTPResponseHead) {
        status = Int(head.status.code)
        guard (200..<300).contains(status) else {
            recording = .abandoned
            return
        }
        if let encoding = head.headers.first(name: "content-encoding"), encoding.lowercased() != "identity" {
            recording = .abandoned  // the proxy asked for identity; never store bytes it cannot read
            return
        }
        headers = head.headers.map { ($0.name, $0.value) }
        let contentType = head.headers.first(name: "content-type")?.lowercased() ?? ""
        if contentType.hasPrefix("text/event-stream") {
            recording = .stream(StreamRecorder(maxBytes: cache.maxEntryBytes))
        } else if contentType.hasPrefix("application/json") {
            recording = .json(bytes: [])
        } else {
            recording = .abandoned
        }
    }

    func body(_ part: ByteBuffer) {
        switch recording {
        case .json(var bytes):
            guard bytes.count + part.readableBytes <= cache.maxEntryBytes else {
                recording = .abandoned
                return
            }
            recording = .abandoned  // release the array so appending does not copy it
            bytes.append(contentsOf: part.readableBytesView)
            recording = .json(bytes: bytes)
        case .stream(var recorder):
            recording = .abandoned
            recorder.feed(part.readableBytesView)
            recording = recorder.isRecordable ? .stream(recorder) : .abandoned
        case .undecided, .abandoned:
            break
        }
    }

    /// The upstream answer is complete and the client received all of it.
    func finished() {
        let now = ResponseCache.nowMs()
        // Saturating: a TTL no clock reaches is as good as forever, never a trap.
        let (product, overflow) = Int64(ttlSeconds).multipliedReportingOverflow(by: 1000)
        let ttlMs = overflow ? (ttlSeconds < 0 ? Int64.min : Int64.max) : product
        var entry: CacheEntry?
        switch recording {
        case .json(let bytes):
            // A 200 that reports an error would replay the failure until it expires.
            guard !CacheEntry.isErrorDocument(json: bytes) else { entry = nil; break }
            entry = CacheEntry.forJSONResponse(status: status, headers: headers, body: bytes, nowMs: now, ttlMs: ttlMs, maxBytes: cache.maxEntryBytes)
        case .stream(let recorder):
            entry = recorder.finish(status: status, headers: headers, nowMs: now, ttlMs: ttlMs)
        case .undecided, .abandoned:
            entry = nil
        }
        recording = .abandoned
        // A header value with CR, LF or NUL would split every replayed head: not stored.
        guard var entry, entry.hasSafeHeaders else { return }
        entry.keyDigest = key.digest
        cache.store(entry, key: key)
    }
}
