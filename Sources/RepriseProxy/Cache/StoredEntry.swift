import NIOCore
import RepriseCore

/// An entry in its stored form (`CacheEntryCodec`'s format), decoded in place: its layout over
/// the bytes Redis answered (or the plaintext they opened into), no field copied out. A hit
/// reads the few fields it needs from it and writes a JSON body from these very bytes.
struct StoredEntry: Sendable {
    /// Exactly the entry's bytes (its readable bytes).
    let bytes: ByteBuffer
    let layout: CacheEntryLayout

    /// Checks everything `CacheEntryCodec.decode` checks.
    init(parsing bytes: ByteBuffer) throws(CacheEntryDecodingError) {
        let parsed = bytes.withUnsafeReadableBytes { raw in
            Result { () throws(CacheEntryDecodingError) in try CacheEntryLayout(parsing: raw) }
        }
        self.bytes = bytes
        self.layout = try parsed.get()
    }

    /// The entry, every field copied out (for the memory cache, and for a shape to convert to).
    func entry() -> CacheEntry {
        bytes.withUnsafeReadableBytes { layout.entry(in: $0) }
    }

    func isStored(under key: CacheKey) -> Bool {
        bytes.withUnsafeReadableBytes { layout.isStored(under: key, in: $0) }
    }

    /// The JSON body as a slice of the stored bytes (no copy); nil for a recorded stream.
    var jsonBody: ByteBuffer? {
        guard case .json(let range) = layout.body else { return nil }
        return bytes.getSlice(at: bytes.readerIndex + range.lowerBound, length: range.count)
    }

    /// The response head `CachedAnswer` pre-encodes for a JSON body of `bodyLength` bytes,
    /// written from the stored header bytes (no String per header).
    func jsonHead(bodyLength: Int) -> ByteBuffer {
        bytes.withUnsafeReadableBytes { raw in
            var contentType: UnsafeRawBufferPointer?
            var headerBytes = 0
            layout.forEachHeader(in: raw) { name, value in
                if contentType == nil, CachedAnswer.isContentType(name) { contentType = value }
                headerBytes += name.count + value.count + 4
            }
            let fallback: StaticString = "application/json"
            return CachedAnswer.writeHead(
                status: layout.status,
                contentType: contentType ?? UnsafeRawBufferPointer(start: fallback.utf8Start, count: fallback.utf8CodeUnitCount),
                headerBytes: headerBytes, bodyLength: bodyLength
            ) { writeHeader in
                layout.forEachHeader(in: raw) { name, value in
                    if !CachedAnswer.isContentType(name) { writeHeader(name, value) }
                }
            }
        }
    }
}
