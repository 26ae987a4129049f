import NIOHTTP1

/// What the client is sent of an upstream answer's head, found in one walk over its headers:
/// the headers that go on (room kept for the proxy's own), the body's length when the upstream
/// gave one, and the upstream's request id.
///
/// Why one walk on bytes: the headers were filtered through lower-cased copies hashed into sets,
/// then searched again for the framing and the id (each search its own walk, the
/// `Transfer-Encoding` one building an array).
struct RelayedResponseHead {
    /// Response headers the proxy computes itself: framing, and its own `x-cache`,
    /// `x-reprise-attempts` and `x-reprise-variant`, which replace an upstream's (a Reprise or
    /// another cache in front of the real API) so the client learns what this proxy did; and
    /// `x-request-id`, Reprise's (the writer adds it).
    static let notForwarded: [String] = ["content-length", "x-cache", "x-reprise-attempts", "x-reprise-variant", "x-request-id"]

    private(set) var headers: HTTPHeaders
    /// `Content-Length` of an answer that is not chunked; nil: the length is not known.
    let contentLength: Int?
    /// The upstream's own `x-request-id` (its support asks for it).
    let upstreamRequestID: String?

    /// - Parameter extraCapacity: headers the caller will add (no growth of the array then).
    init(_ head: HTTPResponseHead, extraCapacity: Int) {
        let listed = ConnectionListedNames(head.headers)
        var kept = HTTPHeaders()
        kept.reserveCapacity(head.headers.count + extraCapacity)
        var isChunked = false
        var contentLength: Int?
        var upstreamRequestID: String?
        for (name, value) in head.headers {
            let bytes = name.utf8
            if HeaderBytes.equalsIgnoringCase(bytes, "transfer-encoding".utf8) {
                isChunked = isChunked || HeaderBytes.containsIgnoringCase(value, "chunked")
                continue
            }
            if HeaderBytes.equalsIgnoringCase(bytes, "content-length".utf8) {
                if contentLength == nil { contentLength = Int(value) }
                continue
            }
            if HeaderBytes.equalsIgnoringCase(bytes, "x-request-id".utf8) {
                if upstreamRequestID == nil { upstreamRequestID = value }
                continue
            }
            if HopByHopHeaders.contains(bytes) || listed.contains(name) { continue }
            if Self.notForwarded.contains(where: { HeaderBytes.equalsIgnoringCase(bytes, $0.utf8) }) { continue }
            kept.add(name: name, value: value)
        }
        self.headers = kept
        self.contentLength = isChunked ? nil : contentLength
        self.upstreamRequestID = upstreamRequestID
    }

    mutating func add(name: String, value: String) {
        headers.add(name: name, value: value)
    }
}
