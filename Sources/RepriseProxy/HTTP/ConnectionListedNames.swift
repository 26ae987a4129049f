import NIOHTTP1

/// The header names a message's `Connection` headers list (RFC 9110 §7.6.1): hop-by-hop for
/// that message. Only names that are not hop-by-hop anyway, nor `close`, are kept: the usual
/// `Connection: keep-alive` lists none, and then nothing is allocated.
struct ConnectionListedNames {
    private var names: [Substring] = []

    init(_ headers: HTTPHeaders) {
        for (name, value) in headers where HeaderBytes.equalsIgnoringCase(name.utf8, "connection".utf8) {
            // Walked by hand: `split` would allocate an array for every `Connection` header.
            var rest = value[...]
            while !rest.isEmpty {
                let comma = rest.utf8.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
                let token = rest[..<comma].trimmingWhitespace()
                rest = comma == rest.endIndex ? rest[rest.endIndex...] : rest[rest.utf8.index(after: comma)...]
                if token.isEmpty || HeaderBytes.equalsIgnoringCase(token.utf8, "close".utf8) { continue }
                if HopByHopHeaders.contains(token.utf8) { continue }
                names.append(token)
            }
        }
    }

    var isEmpty: Bool { names.isEmpty }

    /// Whether `name` (any case) is listed.
    func contains(_ name: String) -> Bool {
        names.contains { HeaderBytes.equalsIgnoringCase(name.utf8, $0.utf8) }
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
