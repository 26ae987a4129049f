/// One header (or trailer) line of a request: its name and value as ranges of the head's bytes,
/// the value without the whitespace around it.
public struct HeaderFieldRange: Hashable, Sendable {
    public var name: HeadByteRange
    public var value: HeadByteRange

    public init(name: HeadByteRange, value: HeadByteRange) {
        self.name = name
        self.value = value
    }
}
