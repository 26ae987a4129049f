import NIOCore
import NIOHTTP1
import RepriseCore

/// Records an upstream answer while it streams to the client, and stores it when — and only
/// when — it completed: a 2xx status, within `cache.max_entry_bytes`, and for a stream its last
/// event (`StreamRecorder.isComplete`). A cut stream, an upstream error or a client that left
/// before the end stores nothing.
///
/// A stream is stored the moment its last event is recorded, not when the upstream's body ends:
/// real APIs write the chunked terminator a moment later, and the OpenAI SDK hangs up as soon as
/// it read `data: [DONE]`. The answer is whole at that event; what happens to either connection
/// afterwards cannot take it back.
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
    /// The recorded stream reached its last event (and was stored then, if it could be).
    private(set) var streamComplete = false

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
        if let encoding = head.headers.first(name: "content-encoding"), !HeaderBytes.equalsIgnoringCase(encoding.utf8, "identity".utf8) {
            recording = .abandoned  // the proxy asked for identity; never store bytes it cannot read
            return
        }
        // Only the headers an entry keeps (`CacheEntry.keptHeaders` picks them again): the
        // others would be carried to the store to be dropped there. Names compared on their
        // bytes: no lower-cased copy per header.
        for (name, value) in head.headers
        where CacheEntry.keptHeaderNames.contains(where: { HeaderBytes.equalsIgnoringCase(name.utf8, $0.utf8) }) {
            headers.append((name, value))
        }
        let contentType = head.headers.first(name: "content-type") ?? ""
        if HeaderBytes.hasPrefixIgnoringCase(contentType, "text/event-stream") {
            recording = .stream(StreamRecorder(maxBytes: cache.maxEntryBytes))
        } else if HeaderBytes.hasPrefixIgnoringCase(contentType, "application/json") {
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
            if recorder.isComplete {
                // Whatever follows the last event is not part of the answer.
                streamComplete = true
                store(recorder.finish(status: status, headers: headers, nowMs: ResponseCache.nowMs(), ttlMs: ttlMs))
            } else if recorder.isRecordable {
                recording = .stream(recorder)
            }
        case .undecided, .abandoned:
            break
        }
    }

    /// The upstream answer ended and the client (or a coalesced follower) received all of it.
    /// A stream already stored at its last event is not stored again.
    func finished() {
        let entry: CacheEntry?
        switch recording {
        case .json(let bytes):
            // A 200 that reports an error would replay the failure until it expires.
            guard !CacheEntry.isErrorDocument(json: bytes) else { entry = nil; break }
            entry = CacheEntry.forJSONResponse(status: status, headers: headers, body: bytes, nowMs: ResponseCache.nowMs(), ttlMs: ttlMs, maxBytes: cache.maxEntryBytes)
        case .stream(let recorder):
            entry = recorder.finish(status: status, headers: headers, nowMs: ResponseCache.nowMs(), ttlMs: ttlMs)
        case .undecided, .abandoned:
            entry = nil
        }
        recording = .abandoned
        store(entry)
    }

    /// The entry TTL in milliseconds. Saturating: a TTL no clock reaches is as good as forever,
    /// never a trap.
    private var ttlMs: Int64 {
        let (product, overflow) = Int64(ttlSeconds).multipliedReportingOverflow(by: 1000)
        return overflow ? (ttlSeconds < 0 ? Int64.min : Int64.max) : product
    }

    private func store(_ entry: CacheEntry?) {
        // A header value with CR, LF or NUL would split every replayed head: not stored.
        guard var entry, entry.hasSafeHeaders else { return }
        entry.keyDigest = key.digest
        cache.store(entry, key: key)
    }
}
