/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of a stored entry.
///
/// Slicing-by-8: eight 256-entry tables let the loop fold eight input bytes per step instead
/// of one (every Redis hit verifies the whole entry, so this runs once per hit). Same values
/// as the classic byte-at-a-time loop, which `bytewiseChecksum` keeps as the reference.
public enum CRC32 {
    /// Eight 256-entry tables, one after the other: entry `256 * k + b` is the CRC of byte `b`
    /// followed by `k` zero bytes (the first table is the classic one).
    static let table: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0 ..< 256 {
            var crc = UInt32(index)
            for _ in 0 ..< 8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            table[index] = crc
        }
        for slice in 1 ..< 8 {
            for index in 0 ..< 256 {
                let previous = table[256 * (slice - 1) + index]
                table[256 * slice + index] = table[Int(previous & 0xFF)] ^ (previous >> 8)
            }
        }
        return table
    }()

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        guard let base = bytes.baseAddress else { return 0 }
        let count = bytes.count
        table.withUnsafeBufferPointer { table in
            var index = 0
            while count - index >= 8 {
                let low = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt32.self)) ^ crc
                let high = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self))
                crc = table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                index += 8
            }
            while index < count {
                crc = table[Int((crc ^ UInt32(base.load(fromByteOffset: index, as: UInt8.self))) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
        }
        return ~crc
    }

    /// The classic byte-at-a-time CRC-32 (reference for tests).
    static func bytewiseChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }
}
