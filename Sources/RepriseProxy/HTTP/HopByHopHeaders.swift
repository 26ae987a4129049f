import NIOHTTP1

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1): a proxy must not
/// forward them. Names listed in `Connection` are hop-by-hop too.
enum HopByHopHeaders {
    static let names: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// `headers` without the hop-by-hop ones, without `extra` (lower-case names) and without
    /// those whose lower-case name `alsoRemovingWhere` accepts — one pass over the headers.
    static func removing(
        from headers: HTTPHeaders, alsoRemoving extra: Set<String> = [],
        alsoRemovingWhere isRemoved: ((String) -> Bool)? = nil
    ) -> HTTPHeaders {
        var connectionListed = Set<String>()
        for value in headers["connection"] {
            for token in value.split(separator: ",") {
                connectionListed.insert(token.trimmingWhitespace().lowercased())
            }
        }
        var kept = HTTPHeaders()
        kept.reserveCapacity(headers.count)
        for (name, value) in headers {
            let lower = name.lowercased()
            if names.contains(lower) || connectionListed.contains(lower) || extra.contains(lower) { continue }
            if let isRemoved, isRemoved(lower) { continue }
            kept.add(name: name, value: value)
        }
        return kept
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
