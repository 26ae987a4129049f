/// The bucket (0..<`VariantAssignment.bucketCount`) an identity falls in on a route: a stable
/// 64-bit hash (FNV-1a, then a SplitMix64 finaliser to spread nearby inputs), the same in every
/// process and every build (Swift's `Hasher` is seeded per process, so it cannot be used).
///
/// The route's name is hashed in: a user in the first 10% of one route is not thereby in the
/// first 10% of every other.
public enum StickyBucket {
    public static func bucket<Identity: Sequence>(route: String, identity: Identity) -> Int where Identity.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        for byte in route.utf8 { mix(byte) }
        mix(0)  // separator: route "ab" + "c" is not route "a" + "bc"
        for byte in identity { mix(byte) }
        return Int(finalised(hash) % UInt64(VariantAssignment.bucketCount))
    }

    /// SplitMix64's output function: every input bit affects every output bit.
    static func finalised(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
