/// Comparisons of header names and schemes that ignore the case of ASCII letters, on bytes: no
/// lower-cased copy. Only letters fold (`\r | 0x20` is `-`, so folding every byte would be wrong).
public enum ASCIICase {
    /// `a` equals `b` but for the case of ASCII letters.
    @inlinable
    public static func equal<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        guard a.count == b.count else { return false }
        // Strings' and arrays' bytes are contiguous: compared as buffers. Stepping two
        // `String.UTF8View` iterators in `zip` cost ~120 instructions a byte (callgrind: 1.2% of
        // a miss for the few header names relayed).
        let contiguous = a.withContiguousStorageIfAvailable { a in
            b.withContiguousStorageIfAvailable { b in equal(a, b) }
        }
        if let contiguous, let result = contiguous { return result }
        return zip(a, b).allSatisfy(foldedEqual)
    }

    /// The same over two buffers (the request path's form: no iterators in step).
    @inlinable
    public static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        for index in 0 ..< a.count where !foldedEqual(a[index], b[index]) { return false }
        return true
    }

    @inlinable
    public static func foldedEqual(_ byte: UInt8, _ expected: UInt8) -> Bool {
        let folded = expected | 0x20
        return byte == expected || (folded >= UInt8(ascii: "a") && folded <= UInt8(ascii: "z") && byte | 0x20 == folded)
    }
}
