import Foundation
import Testing

/// What a test writes over a stored answer's Redis value, and what the next lookup must do.
enum MalformedRedisValue: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// Control: the stored bytes written back unchanged, through the same patching path as the
    /// absurd-time cases (fields located, checksum recomputed). Must stay a HIT, which proves
    /// the crafting is right and the other cases test what they claim.
    case rewrittenUnchanged
    case garbage
    case empty
    case truncatedToHalf
    case oneByteFlipped
    /// The magic and version of a real entry, then a payload length of 4 GiB.
    case payloadLengthOfFourGiB
    /// 65 MiB, over the Redis reply limit (64 MiB).
    case oversized
    /// Another tenant's valid entry, copied under this tenant's key.
    case copiedFromAnotherTenant
    /// createdAt = Int64.min: the entry's age overflows.
    case createdAtInt64Min
    /// ttl = Int64.max: createdAt + ttl overflows.
    case ttlInt64Max
    /// createdAt = ttl = Int64.max.
    case createdAtAndTTLInt64Max
    /// ttl = -1 (expired before it was stored).
    case negativeTTL
    /// createdAt an hour in the future.
    case createdInTheFuture

    var testDescription: String { rawValue }

    enum Expectation {
        /// Served from the cache, the right answer.
        case hit
        /// Not served from the cache: the upstream answers again.
        case miss
        /// The right answer, from the cache or the upstream (an absurd but harmless lifetime).
        case correctAnswer
    }

    var expectation: Expectation {
        switch self {
        case .rewrittenUnchanged: .hit
        case .garbage, .empty, .truncatedToHalf, .oneByteFlipped, .payloadLengthOfFourGiB, .oversized, .copiedFromAnotherTenant,
             .createdAtInt64Min, .negativeTTL:
            .miss
        case .ttlInt64Max, .createdAtAndTTLInt64Max, .createdInTheFuture: .correctAnswer
        }
    }

    /// New times for the fields `createdAtMs` and `ttlMs`, for the cases that patch them.
    func patchedTimes(createdAtMs: Int64, ttlMs: Int64) -> (createdAtMs: Int64, ttlMs: Int64)? {
        switch self {
        case .rewrittenUnchanged: (createdAtMs, ttlMs)
        case .createdAtInt64Min: (Int64.min, ttlMs)
        case .ttlInt64Max: (createdAtMs, Int64.max)
        case .createdAtAndTTLInt64Max: (Int64.max, Int64.max)
        case .negativeTTL: (createdAtMs, -1)
        case .createdInTheFuture: (createdAtMs + 3_600_000, ttlMs)
        default: nil
        }
    }
}

/// Rewrites the times of a stored entry without the codec (the end-to-end tests link no
/// Reprise module): finds the big-endian pair (createdAt close to now, ttl equal to the
/// configured one) and recomputes the trailing CRC-32 of everything before it, as the entry
/// format (`CacheEntryCodec`) lays them out.
enum StoredEntryPatcher {
    struct LayoutNotFound: Error, CustomStringConvertible {
        let description: String
    }

    static func patchTimes(
        _ entry: [UInt8],
        nowMs: Int64,
        ttlMs: Int64,
        to newTimes: (createdAtMs: Int64, ttlMs: Int64)
    ) throws -> [UInt8] {
        guard entry.count > 24 else { throw LayoutNotFound(description: "entry of \(entry.count) bytes") }
        var patched = entry
        var offset = 0
        while offset + 16 <= entry.count - 4 {
            let createdAt = readInt64(entry, at: offset)
            if abs(createdAt - nowMs) < 600_000, readInt64(entry, at: offset + 8) == ttlMs {
                writeInt64(newTimes.createdAtMs, into: &patched, at: offset)
                writeInt64(newTimes.ttlMs, into: &patched, at: offset + 8)
                let checksum = crc32(patched[..<(patched.count - 4)])
                for index in 0..<4 {
                    patched[patched.count - 4 + index] = UInt8(truncatingIfNeeded: checksum >> UInt32(24 - 8 * index))
                }
                return patched
            }
            offset += 1
        }
        throw LayoutNotFound(description: "no (createdAt ≈ \(nowMs), ttl = \(ttlMs)) pair in the stored entry: did the layout change?")
    }

    static func readInt64(_ bytes: [UInt8], at offset: Int) -> Int64 {
        var value: UInt64 = 0
        for index in 0..<8 { value = value << 8 | UInt64(bytes[offset + index]) }
        return Int64(bitPattern: value)
    }

    static func writeInt64(_ value: Int64, into bytes: inout [UInt8], at offset: Int) {
        let bits = UInt64(bitPattern: value)
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: bits >> UInt64(56 - 8 * index)) }
    }

    /// CRC-32 (IEEE, reflected 0xEDB88320), bit by bit: slow and obviously right.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
