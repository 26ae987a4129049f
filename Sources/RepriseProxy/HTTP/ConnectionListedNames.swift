import NIOHTTP1

/// The header names a message's `Connection` headers list (RFC 9110 §7.6.1): hop-by-hop for
/// that message. Only names that are not hop-by-hop anyway, nor `close`, are kept: the usual
/// `Connection: keep-alive` lists none, and then nothing is allocated.
struct ConnectionListedNames {
    private var names: [[UInt8]] = []

    init(_ headers: HTTPHeaders) {
        self.init(lines: headers)
    }

    /// Read on the lines' bytes (a client's request as received).
    init(lines headers: some RequestHeaderLines) {
        var names: [[UInt8]] = []
        headers.forEachLine { name, value in
            guard HeaderBytes.equalsIgnoringCase(name, "connection".utf8) else { return }
            // Walked by hand: `split` would allocate an array for every `Connection` header.
            var rest = value[...]
            while !rest.isEmpty {
                let comma = rest.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
                let token = Self.trimmingWhitespace(rest[..<comma])
                rest = comma == rest.endIndex ? rest[rest.endIndex...] : rest[(comma + 1)...]
                if token.isEmpty || HeaderBytes.equalsIgnoringCase(token, "close".utf8) { continue }
                if HopByHopHeaders.contains(token) { continue }
                names.append(Array(token))
            }
        }
        self.names = names
    }

    var isEmpty: Bool { names.isEmpty }

    /// Whether `name` (any case) is listed.
    func contains(_ name: String) -> Bool {
        names.contains { HeaderBytes.equalsIgnoringCase(name.utf8, $0) }
    }

    func contains(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        names.contains { HeaderBytes.equalsIgnoringCase(name, $0) }
    }

    private static func trimmingWhitespace(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }
}
