/// Comparison without an early exit, so the time taken does not reveal a matching prefix.
public enum ConstantTime {
    public static func equals<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool where A.Element == UInt8, B.Element == UInt8 {
        let left = Array(a)
        let right = Array(b)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<max(left.count, right.count) {
            let x = index < left.count ? left[index] : 0
            let y = index < right.count ? right[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }

    /// The same for two strings, over their UTF-8 without copying it (the request path's form):
    /// time depends on the lengths only.
    public static func equals(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        let compared = a.utf8.withContiguousStorageIfAvailable { left in
            b.utf8.withContiguousStorageIfAvailable { right in equals(left, right) }
        }
        if let compared, let compared { return compared }
        return equals(a.utf8, b.utf8)
    }

    /// The same for a string and bytes (a header value read in place), without copying either.
    public static func equals(_ a: String, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.utf8.count == b.count else { return false }
        var a = a
        return a.withUTF8 { equals($0, b) }
    }

    /// The same over two buffers, without copying them.
    public static func equals(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in 0 ..< a.count { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
