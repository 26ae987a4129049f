/// FNV-1a (64-bit) of the request body: the only input of an answer, so the same body always
/// yields the same bytes and different bodies (almost always) different ones.
enum FNV1a {
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}

/// SplitMix64: a tiny deterministic generator seeded from the body hash, so every derived field
/// (ids, words, numbers, embeddings) follows from the body alone.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    /// A value in [-1, 1) with 6 decimal digits, printed identically everywhere.
    mutating func nextUnitMicros() -> Int {
        next(below: 2_000_000) - 1_000_000
    }

    mutating func hex(digits: Int) -> String {
        var result = ""
        while result.count < digits {
            let chunk = String(next(), radix: 16)
            result += String(repeating: "0", count: 16 - chunk.count) + chunk
        }
        return String(result.prefix(digits))
    }
}
