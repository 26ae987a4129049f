/// Binary encoding of `CacheEntry` for L2 (Redis) storage.
///
/// Layout (all integers big-endian):
/// ```
/// magic "RPRC" | version u8 (2) | payload length u32 | payload | CRC-32 u32 of everything before it
/// payload: key digest u8 len + ASCII | status u16 | createdAtMs i64 | ttlMs i64 | flags u8 (1: model, 2: usage)
///          [model: u32 len + UTF-8] [usage: prompt i64, completion i64, total i64]
///          header count u16, each: name u16 len + UTF-8, value u32 len + UTF-8
///          body kind u8 (0 JSON, 1 events)
///          JSON: u32 len + bytes | events: u32 count, each u32 len + bytes
/// ```
/// Decoding checks magic, version, the exact total length, then the checksum, before reading
/// any field, and then every length against the remaining bytes and the limits: truncated,
/// corrupted, unknown-version or oversized input throws `CacheEntryDecodingError` — it never
/// traps and never yields a different entry. A header name or value holding CR, LF or NUL is
/// refused too (it would split the replayed head).
///
/// Version 2 added the key digest (`CacheEntry.keyDigest`): a version-1 value is refused like
/// any unknown version, so entries of the old format are misses (and are overwritten by the
/// next store under their key).
public enum CacheEntryCodec {
    public static let magic: [UInt8] = Array("RPRC".utf8)
    public static let version: UInt8 = 2
    static let headerByteCount = 4 + 1 + 4
    static let checksumByteCount = 4

    /// Bounds applied while decoding.
    public struct Limits: Sendable, Equatable {
        public var maxPayloadBytes: Int
        public var maxHeaders: Int
        public var maxEvents: Int
        public init(maxPayloadBytes: Int = 64 << 20, maxHeaders: Int = 256, maxEvents: Int = 1 << 20) {
            self.maxPayloadBytes = maxPayloadBytes
            self.maxHeaders = maxHeaders
            self.maxEvents = maxEvents
        }
    }

    public static func encode(_ entry: CacheEntry) -> [UInt8] {
        var payload: [UInt8] = []
        payload.reserveCapacity(entry.body.byteCount + 256)
        // A digest is 64 hex characters; a longer string (never made by `CacheKeyBuilder`) is
        // cut, so it cannot match its key and the entry reads back as a miss.
        let keyDigest = entry.keyDigest.utf8.prefix(Int(UInt8.max))
        payload.append(UInt8(keyDigest.count))
        payload.append(contentsOf: keyDigest)
        payload.appendInteger(UInt16(clamping: entry.status))
        payload.appendInteger(entry.createdAtMs)
        payload.appendInteger(entry.ttlMs)
        payload.append((entry.model != nil ? 1 : 0) | (entry.usage != nil ? 2 : 0))
        if let model = entry.model {
            payload.appendInteger(UInt32(model.utf8.count))
            payload.append(contentsOf: model.utf8)
        }
        if let usage = entry.usage {
            payload.appendInteger(Int64(usage.promptTokens))
            payload.appendInteger(Int64(usage.completionTokens))
            payload.appendInteger(Int64(usage.totalTokens))
        }
        payload.appendInteger(UInt16(entry.headers.count))
        for header in entry.headers {
            payload.appendInteger(UInt16(header.name.utf8.count))
            payload.append(contentsOf: header.name.utf8)
            payload.appendInteger(UInt32(header.value.utf8.count))
            payload.append(contentsOf: header.value.utf8)
        }
        switch entry.body {
        case .json(let bytes):
            payload.append(0)
            payload.appendInteger(UInt32(bytes.count))
            payload.append(contentsOf: bytes)
        case .events(let events):
            payload.append(1)
            payload.appendInteger(UInt32(events.count))
            for event in events {
                payload.appendInteger(UInt32(event.count))
                payload.append(contentsOf: event)
            }
        }
        var out = magic
        out.reserveCapacity(headerByteCount + payload.count + checksumByteCount)
        out.append(version)
        out.appendInteger(UInt32(payload.count))
        out.append(contentsOf: payload)
        let crc = out.withUnsafeBytes { CRC32.checksum($0) }
        out.appendInteger(crc)
        return out
    }

    /// Checks everything `CacheEntryLayout` checks, then copies every field out.
    public static func decode(_ bytes: [UInt8], limits: Limits = Limits()) throws(CacheEntryDecodingError) -> CacheEntry {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(CacheEntryDecodingError) in try CacheEntryLayout(parsing: raw, limits: limits).entry(in: raw) }
        }.get()
    }
}

/// Why a stored entry could not be decoded. The caller treats it as a miss (and may delete it).
public struct CacheEntryDecodingError: Error, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case badMagic, unsupportedVersion, truncated, trailingBytes, checksumMismatch, fieldTooLarge, invalidUTF8, invalidField
    }

    public let kind: Kind
    public let detail: String

    init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "cache entry rejected (\(kind.rawValue)): \(detail)" }
}

extension Array where Element == UInt8 {
    mutating func appendInteger<Integer: FixedWidthInteger>(_ value: Integer) {
        let size = MemoryLayout<Integer>.size
        for shift in stride(from: (size - 1) * 8, through: 0, by: -8) {
            append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }
}
