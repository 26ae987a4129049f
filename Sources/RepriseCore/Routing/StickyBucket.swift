/// The bucket (0..<`VariantAssignment.bucketCount`) an identity falls in on a route: a stable
/// 64-bit hash (FNV-1a, then a SplitMix64 finaliser to spread nearby inputs), the same in every
/// process and every build (Swift's `Hasher` is seeded per process, so it cannot be used).
///
/// The route's name is hashed in: a user in the first 10% of one route is not thereby in the
/// first 10% of every other.
public enum StickyBucket {
    public static func bucket(route: String, identity: Substring) -> Int {
        // Over contiguous UTF-8 bytes, not a generic sequence: this runs on every routed request
        // (a generic loop across the module boundary cost ~650 ns, this ~20).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var route = route
        var identity = identity
        route.withUTF8 { for byte in $0 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 } }
        hash = (hash ^ 0) &* 0x0000_0100_0000_01b3  // separator: route "ab" + "c" is not route "a" + "bc"
        identity.withUTF8 { for byte in $0 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 } }
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
