import RepriseCore

/// The entry codec on arbitrary bytes. The first input byte picks the mode: odd → the rest is
/// decoded as it is; even → the rest is the payload, wrapped in a valid frame (magic, version,
/// length, CRC-32), so the field decoding behind the checksum is reached. Never traps; a
/// decoded entry re-encodes to an entry that decodes equal, and its age/expiry arithmetic is
/// total at any clock.
enum EntryCodecFuzz {
    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let framed = input.byte() & 1 == 0
        let payload = input.rest
        let candidate = framed ? frame(payload) : payload
        let limits = CacheEntryCodec.Limits(maxPayloadBytes: 1 << 20, maxHeaders: 64, maxEvents: 1 << 12)
        guard let entry = try? CacheEntryCodec.decode(candidate, limits: limits) else { return }
        do {
            let again = try CacheEntryCodec.decode(CacheEntryCodec.encode(entry), limits: limits)
            precondition(again == entry, "encode → decode changed the entry")
        } catch {
            preconditionFailure("a decoded entry does not round-trip: \(error)")
        }
        for nowMs in [Int64.min, -1, 0, entry.createdAtMs, Int64.max] {
            precondition(entry.ageSeconds(nowMs: nowMs) >= 0, "negative age")
            _ = entry.isExpired(nowMs: nowMs)
        }
        _ = entry.approximateByteCount
    }

    /// A well-formed frame around `payload`: what `CacheEntryCodec.encode` writes around its payload.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out = CacheEntryCodec.magic
        out.append(CacheEntryCodec.version)
        let length = UInt32(truncatingIfNeeded: payload.count)
        out.append(contentsOf: [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)])
        out.append(contentsOf: payload)
        let crc = out.withUnsafeBytes { CRC32.checksum($0) }
        out.append(contentsOf: [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        return out
    }
}
