import NIOHTTP1
import RepriseHTTP

/// A request's header lines, read in the head's bytes: a name is compared without case and
/// without a copy, a value becomes a `String` only when asked for. Iterated in arrival order
/// (each line its own element, as `HTTPHeaders` lists them).
public struct RequestHeaders: Sequence {
    private let head: ParsedRequestHead

    init(_ head: ParsedRequestHead) {
        self.head = head
    }

    /// The value of the first line named `name` (any case).
    public func first(name: String) -> String? {
        head.firstValue(named: name).map { head.string($0) }
    }

    public func contains(name: String) -> Bool {
        head.firstValue(named: name) != nil
    }

    /// The values of every line named `name`, in order.
    public subscript(name: String) -> [String] {
        head.fields.compactMap { head.bytes($0.name, equalIgnoringASCIICase: name) ? head.string($0.value) : nil }
    }

    /// Calls `body` with each line whose name (its bytes) `include` accepts, in order; only
    /// those lines become `String`s.
    public func forEach(whereName include: (UnsafeBufferPointer<UInt8>) -> Bool, _ body: (_ name: String, _ value: String) -> Void) {
        forEachLine { name, value in
            guard include(name) else { return }
            body(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
        }
    }

    /// The first line whose name (its bytes) `matches` accepts, made into `String`s.
    public func first(whereName matches: (UnsafeBufferPointer<UInt8>) -> Bool) -> (name: String, value: String)? {
        withFirstLine(whereName: matches) { name, value in
            (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
        }
    }

    /// `body` with the name and value bytes, in place, of the first line whose name `matches`
    /// accepts; nil when no line does. Nothing becomes a `String`.
    func withFirstLine<Result>(
        whereName matches: (UnsafeBufferPointer<UInt8>) -> Bool,
        _ body: (_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result? {
        head.bytes.withUnsafeReadableBytes { raw in
            let bytes = raw.assumingMemoryBound(to: UInt8.self)
            for field in head.fields {
                let name = UnsafeBufferPointer(rebasing: bytes[field.name.start ..< field.name.end])
                guard matches(name) else { continue }
                return body(name, UnsafeBufferPointer(rebasing: bytes[field.value.start ..< field.value.end]))
            }
            return nil
        }
    }

    /// Each line's name and value bytes, in order, in place.
    func forEachLine(_ body: (_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Void) {
        // The head's bytes opened once for every line, not twice per line.
        head.bytes.withUnsafeReadableBytes { raw in
            let bytes = raw.assumingMemoryBound(to: UInt8.self)
            for field in head.fields {
                body(
                    UnsafeBufferPointer(rebasing: bytes[field.name.start ..< field.name.end]),
                    UnsafeBufferPointer(rebasing: bytes[field.value.start ..< field.value.end])
                )
            }
        }
    }

    public func makeIterator() -> Iterator {
        Iterator(head: head)
    }

    public struct Iterator: IteratorProtocol {
        let head: ParsedRequestHead
        var index = 0

        public mutating func next() -> (name: String, value: String)? {
            guard index < head.fields.count else { return nil }
            let field = head.fields[index]
            index += 1
            return (head.string(field.name), head.string(field.value))
        }
    }
}
