#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where each field of an encoded entry (`CacheEntryCodec`'s format) lies in its bytes, found by
/// one pass that checks everything `CacheEntryCodec.decode` checks (frame, checksum, every
/// length, UTF-8, header line breaks, limits) without copying a field out: a Redis hit reads
/// the few fields it needs from the stored bytes and writes the body from them as they are.
/// `CacheEntryCodec.decode` is this pass followed by `entry(in:)`.
///
/// The offsets are from the start of the bytes parsed; every accessor takes those same bytes.
public struct CacheEntryLayout: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        /// The JSON document's bytes.
        case json(Range<Int>)
        /// `count` events, each a u32 length and its bytes, back to back in `records`.
        case events(count: Int, records: Range<Int>)
    }

    public let keyDigest: Range<Int>
    public let status: Int
    public let lifetime: CacheEntryLifetime
    public let model: Range<Int>?
    public let usage: CacheEntry.Usage?
    /// `headerCount` headers, each name u16 length + bytes, value u32 length + bytes.
    public let headerCount: Int
    let headerRecords: Range<Int>
    public let body: Body

    public init(parsing bytes: UnsafeRawBufferPointer, limits: CacheEntryCodec.Limits = .init()) throws(CacheEntryDecodingError) {
        let headerByteCount = CacheEntryCodec.headerByteCount, checksumByteCount = CacheEntryCodec.checksumByteCount
        guard bytes.count >= headerByteCount + checksumByteCount else { throw .init(.truncated, "entry shorter than its fixed header") }
        guard bytes[0 ..< 4].elementsEqual(CacheEntryCodec.magic) else { throw .init(.badMagic, "not a Reprise cache entry") }
        guard bytes[4] == CacheEntryCodec.version else {
            throw .init(.unsupportedVersion, "version \(bytes[4]), supported \(CacheEntryCodec.version)")
        }
        var reader = EntryByteReader(bytes: bytes, index: 5, end: bytes.count)
        let payloadLength = Int(try reader.read(UInt32.self, "payload length"))
        guard payloadLength <= limits.maxPayloadBytes else {
            throw .init(.fieldTooLarge, "payload of \(payloadLength) bytes over the limit \(limits.maxPayloadBytes)")
        }
        let expectedTotal = headerByteCount + payloadLength + checksumByteCount
        guard bytes.count == expectedTotal else {
            throw .init(bytes.count < expectedTotal ? .truncated : .trailingBytes, "\(bytes.count) bytes, the header says \(expectedTotal)")
        }
        let checksumStart = bytes.count - checksumByteCount
        let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0 ..< checksumStart]))
        var checksumReader = EntryByteReader(bytes: bytes, index: checksumStart, end: bytes.count)
        let stored = try checksumReader.read(UInt32.self, "checksum")
        guard stored == computed else { throw .init(.checksumMismatch, "stored \(stored), computed \(computed)") }

        reader.end = checksumStart
        keyDigest = try reader.skipString(length: Int(try reader.read(UInt8.self, "key digest length")), "key digest")
        status = Int(try reader.read(UInt16.self, "status"))
        let createdAtMs = try reader.read(Int64.self, "createdAt")
        let ttlMs = try reader.read(Int64.self, "ttl")
        lifetime = CacheEntryLifetime(createdAtMs: createdAtMs, ttlMs: ttlMs)
        let flags = try reader.read(UInt8.self, "flags")
        guard flags & ~3 == 0 else { throw .init(.invalidField, "unknown flags \(flags)") }
        model = flags & 1 != 0 ? try reader.skipString(length: Int(try reader.read(UInt32.self, "model length")), "model") : nil
        if flags & 2 != 0 {
            let prompt = try reader.read(Int64.self, "usage.prompt")
            let completion = try reader.read(Int64.self, "usage.completion")
            let total = try reader.read(Int64.self, "usage.total")
            usage = CacheEntry.Usage(promptTokens: Int(prompt), completionTokens: Int(completion), totalTokens: Int(total))
        } else {
            usage = nil
        }
        headerCount = Int(try reader.read(UInt16.self, "header count"))
        guard headerCount <= limits.maxHeaders else { throw .init(.fieldTooLarge, "\(headerCount) headers over the limit \(limits.maxHeaders)") }
        let headersStart = reader.index
        for index in 0 ..< headerCount {
            let name = try reader.skipString(length: Int(try reader.read(UInt16.self, "header name length")), "header name")
            let value = try reader.skipString(length: Int(try reader.read(UInt32.self, "header value length")), "header value")
            guard !Self.hasLineBreakOrNUL(bytes[name]), !Self.hasLineBreakOrNUL(bytes[value]) else {
                throw .init(.invalidField, "header \(index) holds CR, LF or NUL")
            }
        }
        headerRecords = headersStart ..< reader.index
        switch try reader.read(UInt8.self, "body kind") {
        case 0:
            body = .json(try reader.skip(length: Int(try reader.read(UInt32.self, "JSON length")), "JSON body"))
        case 1:
            let count = Int(try reader.read(UInt32.self, "event count"))
            guard count <= limits.maxEvents else { throw .init(.fieldTooLarge, "\(count) events over the limit \(limits.maxEvents)") }
            // Every event takes at least its 4-byte length: bound the count by the input.
            guard count <= (reader.end - reader.index) / 4 else { throw .init(.truncated, "\(count) events cannot fit") }
            let recordsStart = reader.index
            for _ in 0 ..< count {
                _ = try reader.skip(length: Int(try reader.read(UInt32.self, "event length")), "event")
            }
            body = .events(count: count, records: recordsStart ..< reader.index)
        case let kind:
            throw .init(.invalidField, "unknown body kind \(kind)")
        }
        guard reader.index == reader.end else { throw .init(.trailingBytes, "\(reader.end - reader.index) unread payload bytes") }
    }

    /// The headers' name and value bytes, in stored order (checked when parsed: no reads fail).
    public func forEachHeader(in bytes: UnsafeRawBufferPointer, _ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) {
        var index = headerRecords.lowerBound
        for _ in 0 ..< headerCount {
            let nameLength = Int(Self.load(UInt16.self, from: bytes, at: index))
            let name = UnsafeRawBufferPointer(rebasing: bytes[index + 2 ..< index + 2 + nameLength])
            index += 2 + nameLength
            let valueLength = Int(Self.load(UInt32.self, from: bytes, at: index))
            let value = UnsafeRawBufferPointer(rebasing: bytes[index + 4 ..< index + 4 + valueLength])
            index += 4 + valueLength
            body(name, value)
        }
    }

    /// The entry the bytes hold, every field copied out of them.
    public func entry(in bytes: UnsafeRawBufferPointer) -> CacheEntry {
        var headers: [CacheEntry.Header] = []
        headers.reserveCapacity(headerCount)
        forEachHeader(in: bytes) { name, value in
            headers.append(CacheEntry.Header(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self)))
        }
        let entryBody: CacheEntry.Body
        switch body {
        case .json(let range):
            entryBody = .json(Array(bytes[range]))
        case .events(let count, let records):
            var events: [[UInt8]] = []
            events.reserveCapacity(count)
            var index = records.lowerBound
            for _ in 0 ..< count {
                let length = Int(Self.load(UInt32.self, from: bytes, at: index))
                events.append(Array(bytes[index + 4 ..< index + 4 + length]))
                index += 4 + length
            }
            entryBody = .events(events)
        }
        return CacheEntry(
            status: status, headers: headers, createdAtMs: lifetime.createdAtMs, ttlMs: lifetime.ttlMs,
            model: model.map { String(decoding: bytes[$0], as: UTF8.self) }, usage: usage, body: entryBody,
            keyDigest: String(decoding: bytes[keyDigest], as: UTF8.self)
        )
    }

    /// The entry belongs to `key` (as `CacheEntry.isStored(under:)`): its digest's bytes are the key's.
    /// One `memcmp` (comparing through the UTF-8 view a byte at a time cost 3,300 instructions).
    public func isStored(under key: CacheKey, in bytes: UnsafeRawBufferPointer) -> Bool {
        let digest = key.digest.utf8
        guard !keyDigest.isEmpty, digest.count == keyDigest.count else { return false }
        let stored = UnsafeRawBufferPointer(rebasing: bytes[keyDigest])
        return digest.withContiguousStorageIfAvailable { memcmp($0.baseAddress!, stored.baseAddress!, stored.count) == 0 }
            ?? digest.elementsEqual(stored)
    }

    static func hasLineBreakOrNUL(_ bytes: some Sequence<UInt8>) -> Bool {
        bytes.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
    }

    /// No byte has its high bit set, checked 8 bytes at a time.
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while bytes.count - index >= 8 {
            guard bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 else { return false }
            index += 8
        }
        while index < bytes.count {
            guard bytes[index] < 0x80 else { return false }
            index += 1
        }
        return true
    }

    /// A big-endian integer at `offset` (in bounds: checked when parsed).
    static func load<Integer: FixedWidthInteger & BitwiseCopyable>(_: Integer.Type, from bytes: UnsafeRawBufferPointer, at offset: Int) -> Integer {
        Integer(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Integer.self))
    }
}

/// Reads an entry's fields in order, each bounded by what is left before `end`.
private struct EntryByteReader {
    let bytes: UnsafeRawBufferPointer
    var index: Int
    var end: Int

    mutating func read<Integer: FixedWidthInteger & BitwiseCopyable>(_: Integer.Type, _ field: String) throws(CacheEntryDecodingError) -> Integer {
        let size = MemoryLayout<Integer>.size
        guard end - index >= size else { throw .init(.truncated, "\(field) needs \(size) bytes, \(end - index) left") }
        defer { index += size }
        return CacheEntryLayout.load(Integer.self, from: bytes, at: index)
    }

    /// The range of the next `length` bytes, stepped over.
    mutating func skip(length: Int, _ field: String) throws(CacheEntryDecodingError) -> Range<Int> {
        guard length <= end - index else { throw .init(.truncated, "\(field) of \(length) bytes, \(end - index) left") }
        defer { index += length }
        return index ..< index + length
    }

    /// As `skip`, for a field that must be UTF-8 (validated in place: no String is made).
    mutating func skipString(length: Int, _ field: String) throws(CacheEntryDecodingError) -> Range<Int> {
        let range = try skip(length: length, field)
        guard Self.isValidUTF8(bytes[range]) else { throw .init(.invalidUTF8, field) }
        return range
    }

    static func isValidUTF8(_ bytes: Slice<UnsafeRawBufferPointer>) -> Bool {
        // The fields are ASCII nearly always: the decoder (~20 instructions a byte) only for the others.
        guard !CacheEntryLayout.isASCII(UnsafeRawBufferPointer(rebasing: bytes)) else { return true }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
