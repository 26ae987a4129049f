/// Where one part of a request head (method, target, a header name or value) lies in the head's
/// bytes: offsets from the head's first byte, so the part is read in place and a `String` is
/// made only when asked for.
public struct HeadByteRange: Hashable, Sendable {
    public var start: Int
    public var count: Int

    public init(start: Int, count: Int) {
        self.start = start
        self.count = count
    }

    public var end: Int { start + count }
}
