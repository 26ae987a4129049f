import NIOCore
import NIOHTTP1

/// What the client is sent of an upstream answer's head: the upstream's headers less the
/// hop-by-hop ones and the proxy's own, the body's length when the upstream gave one, and the
/// upstream's request id.
///
/// Why no header list is built: the kept headers go straight from the decoded head into the
/// client's head bytes (`writeForwarded`), and into a coalesced follower's list only when a
/// follower asks (`forEachForwarded`). Building them as `HTTPHeaders` first cost an array per
/// answer and a second walk to encode it.
struct RelayedResponseHead {
    /// Response headers the proxy computes itself: framing, and its own `x-cache`,
    /// `x-reprise-attempts` and `x-reprise-variant`, which replace an upstream's (a Reprise or
    /// another cache in front of the real API) so the client learns what this proxy did; and
    /// `x-request-id`, Reprise's (the writer adds it).
    static let notForwarded: [String] = ["content-length", "x-cache", "x-reprise-attempts", "x-reprise-variant", "x-request-id"]

    /// The upstream's headers as decoded (shared storage, not a copy).
    private let upstream: HTTPHeaders
    /// Names the upstream's `Connection` header lists (hop-by-hop for this answer).
    private let listed: ConnectionListedNames
    /// `Content-Length` of an answer that is not chunked; nil: the length is not known.
    let contentLength: Int?
    /// The upstream's own `x-request-id` (its support asks for it).
    let upstreamRequestID: String?
    /// Bytes of the upstream's header lines (`name: value\r\n`): room for the forwarded ones.
    let headerBytes: Int

    init(_ head: HTTPResponseHead) {
        upstream = head.headers
        listed = ConnectionListedNames(head.headers)
        var isChunked = false
        var contentLength: Int?
        var upstreamRequestID: String?
        var headerBytes = 0
        for (name, value) in head.headers {
            let bytes = name.utf8
            headerBytes += bytes.count + value.utf8.count + 4
            if HeaderBytes.equalsIgnoringCase(bytes, "transfer-encoding".utf8) {
                isChunked = isChunked || HeaderBytes.containsIgnoringCase(value, "chunked")
            } else if HeaderBytes.equalsIgnoringCase(bytes, "content-length".utf8) {
                if contentLength == nil { contentLength = Int(value) }
            } else if HeaderBytes.equalsIgnoringCase(bytes, "x-request-id".utf8) {
                if upstreamRequestID == nil { upstreamRequestID = value }
            }
        }
        self.contentLength = isChunked ? nil : contentLength
        self.upstreamRequestID = upstreamRequestID
        self.headerBytes = headerBytes
    }

    /// Calls `body` with each header that goes on to the client, in the upstream's order.
    func forEachForwarded(_ body: (_ name: String, _ value: String) -> Void) {
        for (name, value) in upstream where isForwarded(name) {
            body(name, value)
        }
    }

    /// The forwarded headers as `name: value\r\n` lines. The decoder admitted only names and
    /// values a head may carry (no CR, LF or NUL), so they are written as they came.
    func writeForwarded(into buffer: inout ByteBuffer) {
        forEachForwarded { name, value in ResponseHeadEncoder.writeHeader(name: name, value: value, into: &buffer) }
    }

    /// The forwarded headers as a list (coalesced followers, tests).
    var forwardedHeaders: HTTPHeaders {
        var headers = HTTPHeaders()
        forEachForwarded { name, value in headers.add(name: name, value: value) }
        return headers
    }

    /// `Transfer-Encoding` is hop-by-hop; `Content-Length` and `X-Request-Id` are in `notForwarded`.
    private func isForwarded(_ name: String) -> Bool {
        let bytes = name.utf8
        if HopByHopHeaders.contains(bytes) || (!listed.isEmpty && listed.contains(name)) { return false }
        return !Self.notForwarded.contains { HeaderBytes.equalsIgnoringCase(bytes, $0.utf8) }
    }
}
