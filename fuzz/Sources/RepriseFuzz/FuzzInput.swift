/// Takes structure out of the front of a fuzz input (a split seed, small numbers) and leaves
/// the rest as the payload; an exhausted input yields zeros.
struct FuzzInput {
    private(set) var bytes: ArraySlice<UInt8>

    init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    var rest: [UInt8] { Array(bytes) }

    mutating func byte() -> UInt8 {
        bytes.popFirst() ?? 0
    }

    mutating func integer<Integer: FixedWidthInteger>(_: Integer.Type) -> Integer {
        var value: Integer = 0
        for _ in 0 ..< MemoryLayout<Integer>.size { value = value << 8 | Integer(truncatingIfNeeded: byte()) }
        return value
    }

    /// `payload` cut into pieces of 1...`maxPiece` bytes, lengths drawn from a generator seeded
    /// by `seed` (one input byte gives 256 different cuttings, without eating the payload).
    static func pieces(of payload: [UInt8], seed: UInt8, maxPiece: Int = 16) -> [ArraySlice<UInt8>] {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        var pieces: [ArraySlice<UInt8>] = []
        var start = 0
        while start < payload.count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            let end = min(payload.count, start + Int(state % UInt64(maxPiece)) + 1)
            pieces.append(payload[start ..< end])
            start = end
        }
        return pieces
    }
}
