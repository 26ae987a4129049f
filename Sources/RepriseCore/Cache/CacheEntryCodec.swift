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

    public static func decode(_ bytes: [UInt8], limits: Limits = Limits()) throws(CacheEntryDecodingError) -> CacheEntry {
        guard bytes.count >= headerByteCount + checksumByteCount else { throw .init(.truncated, "entry shorter than its fixed header") }
        guard bytes[0 ..< 4].elementsEqual(magic) else { throw .init(.badMagic, "not a Reprise cache entry") }
        guard bytes[4] == version else { throw .init(.unsupportedVersion, "version \(bytes[4]), supported \(version)") }
        var reader = ByteReader(bytes: bytes, index: 5, end: bytes.count)
        let payloadLength = Int(try reader.read(UInt32.self, "payload length"))
        guard payloadLength <= limits.maxPayloadBytes else {
            throw .init(.fieldTooLarge, "payload of \(payloadLength) bytes over the limit \(limits.maxPayloadBytes)")
        }
        let expectedTotal = headerByteCount + payloadLength + checksumByteCount
        guard bytes.count == expectedTotal else {
            throw .init(bytes.count < expectedTotal ? .truncated : .trailingBytes, "\(bytes.count) bytes, the header says \(expectedTotal)")
        }
        let checksumStart = bytes.count - checksumByteCount
        let computed = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0 ..< checksumStart])) }
        var checksumReader = ByteReader(bytes: bytes, index: checksumStart, end: bytes.count)
        let stored = try checksumReader.read(UInt32.self, "checksum")
        guard stored == computed else { throw .init(.checksumMismatch, "stored \(stored), computed \(computed)") }

        reader.end = checksumStart
        let keyDigest = try reader.readString(length: Int(try reader.read(UInt8.self, "key digest length")), "key digest")
        let status = Int(try reader.read(UInt16.self, "status"))
        let createdAtMs = try reader.read(Int64.self, "createdAt")
        let ttlMs = try reader.read(Int64.self, "ttl")
        let flags = try reader.read(UInt8.self, "flags")
        guard flags & ~3 == 0 else { throw .init(.invalidField, "unknown flags \(flags)") }
        var model: String?
        if flags & 1 != 0 {
            model = try reader.readString(length: Int(try reader.read(UInt32.self, "model length")), "model")
        }
        var usage: CacheEntry.Usage?
        if flags & 2 != 0 {
            let prompt = try reader.read(Int64.self, "usage.prompt")
            let completion = try reader.read(Int64.self, "usage.completion")
            let total = try reader.read(Int64.self, "usage.total")
            usage = CacheEntry.Usage(promptTokens: Int(prompt), completionTokens: Int(completion), totalTokens: Int(total))
        }
        let headerCount = Int(try reader.read(UInt16.self, "header count"))
        guard headerCount <= limits.maxHeaders else { throw .init(.fieldTooLarge, "\(headerCount) headers over the limit \(limits.maxHeaders)") }
        var headers: [CacheEntry.Header] = []
        headers.reserveCapacity(headerCount)
        for _ in 0 ..< headerCount {
            let name = try reader.readString(length: Int(try reader.read(UInt16.self, "header name length")), "header name")
            let value = try reader.readString(length: Int(try reader.read(UInt32.self, "header value length")), "header value")
            guard !CacheEntry.hasLineBreakOrNUL(name), !CacheEntry.hasLineBreakOrNUL(value) else {
                throw .init(.invalidField, "header \(headers.count) holds CR, LF or NUL")
            }
            headers.append(CacheEntry.Header(name: name, value: value))
        }
        let body: CacheEntry.Body
        switch try reader.read(UInt8.self, "body kind") {
        case 0:
            body = .json(try reader.readBytes(length: Int(try reader.read(UInt32.self, "JSON length")), "JSON body"))
        case 1:
            let count = Int(try reader.read(UInt32.self, "event count"))
            guard count <= limits.maxEvents else { throw .init(.fieldTooLarge, "\(count) events over the limit \(limits.maxEvents)") }
            // Every event takes at least its 4-byte length: bound the reservation by the input.
            guard count <= (reader.end - reader.index) / 4 else { throw .init(.truncated, "\(count) events cannot fit") }
            var events: [[UInt8]] = []
            events.reserveCapacity(count)
            for _ in 0 ..< count {
                events.append(try reader.readBytes(length: Int(try reader.read(UInt32.self, "event length")), "event"))
            }
            body = .events(events)
        case let kind:
            throw .init(.invalidField, "unknown body kind \(kind)")
        }
        guard reader.index == reader.end else { throw .init(.trailingBytes, "\(reader.end - reader.index) unread payload bytes") }
        return CacheEntry(status: status, headers: headers, createdAtMs: createdAtMs, ttlMs: ttlMs, model: model, usage: usage, body: body,
                          keyDigest: keyDigest)
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

private struct ByteReader {
    let bytes: [UInt8]
    var index: Int
    var end: Int

    mutating func read<Integer: FixedWidthInteger>(_: Integer.Type, _ field: String) throws(CacheEntryDecodingError) -> Integer {
        let size = MemoryLayout<Integer>.size
        guard end - index >= size else { throw .init(.truncated, "\(field) needs \(size) bytes, \(end - index) left") }
        var value: Integer = 0
        for offset in 0 ..< size { value = value << 8 | Integer(truncatingIfNeeded: bytes[index + offset]) }
        index += size
        return value
    }

    mutating func readBytes(length: Int, _ field: String) throws(CacheEntryDecodingError) -> [UInt8] {
        guard length <= end - index else { throw .init(.truncated, "\(field) of \(length) bytes, \(end - index) left") }
        defer { index += length }
        return Array(bytes[index ..< index + length])
    }

    /// Validated straight from the entry's bytes (no intermediate array per string).
    mutating func readString(length: Int, _ field: String) throws(CacheEntryDecodingError) -> String {
        guard length <= end - index else { throw .init(.truncated, "\(field) of \(length) bytes, \(end - index) left") }
        guard let string = String(validating: bytes[index ..< index + length], as: UTF8.self) else { throw .init(.invalidUTF8, field) }
        index += length
        return string
    }
}

extension Array where Element == UInt8 {
    mutating func appendInteger<Integer: FixedWidthInteger>(_ value: Integer) {
        let size = MemoryLayout<Integer>.size
        for shift in stride(from: (size - 1) * 8, through: 0, by: -8) {
            append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }
}
