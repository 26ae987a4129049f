/// Headers that describe one connection, not the message (RFC 9110 §7.6.1): a proxy must not
/// forward them. Names listed in `Connection` are hop-by-hop too.
///
/// Names are compared on their bytes, ignoring case: no lower-cased copy and no hashing per
/// header (the lower-cased names hashed into a `Set` were 1.2% of a miss's CPU, perf).
enum HopByHopHeaders {
    static let names: [String] = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Whether `name` (any case) is one of `names`.
    static func contains<Name: Collection<UInt8>>(_ name: Name) -> Bool {
        switch name.count {
        case 2, 7, 10, 16, 17, 18, 19:
            return names.contains { HeaderBytes.equalsIgnoringCase(name, $0.utf8) }
        default:
            // No hop-by-hop name has another length: most names are decided here.
            return false
        }
    }
}
