/// The hash that picks a body's slot in `CacheKeyMemo`: 8 bytes per step, seeded per process.
///
/// Not Swift's `Hasher` (SipHash-1-3, ~6 instructions per byte: 1,290 per L1 hit for a
/// 200-byte body): a slot is only a place to look, its bytes are compared in full before a key
/// is taken from it, so a collision costs one computed key, never a wrong one. An adversary who
/// makes bodies collide only evicts memo entries, which sending distinct bodies does as well.
/// The seed keeps slot positions from being the same in every process.
enum MemoSlotHash {
    static let seed = UInt64.random(in: .min ... .max)

    static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        var state = seed ^ (UInt64(bytes.count) &* multiplier)
        var offset = 0
        let count = bytes.count
        while offset + 8 <= count {
            state = mix(state ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < count {
            var tail: UInt64 = 0
            for index in offset ..< count { tail = tail << 8 | UInt64(bytes[index]) }
            state = mix(state ^ tail)
        }
        return Int(bitPattern: UInt(finalize(state)))
    }

    /// One step: multiply, then fold the high bits down so every input bit reaches the low ones
    /// (the slot index is the hash modulo the slot count).
    private static func mix(_ value: UInt64) -> UInt64 {
        let product = value &* 0xBF58_476D_1CE4_E5B9
        return product ^ (product >> 31)
    }

    /// splitmix64's finalizer.
    private static func finalize(_ value: UInt64) -> UInt64 {
        var value = value
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
