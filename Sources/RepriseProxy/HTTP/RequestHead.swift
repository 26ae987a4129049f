import NIOHTTP1
import RepriseHTTP

/// A client's request head as the proxy reads it: the parser's byte ranges, with the method
/// and the target made into values once (every request reads them), the headers looked up on
/// the bytes (`RequestHeaders`). No `HTTPHeaders` is built unless the request goes upstream.
public struct RequestHead {
    public let parsed: ParsedRequestHead
    public let method: HTTPMethod
    /// The request target as sent (path and query).
    public let uri: String
    public var headers: RequestHeaders { RequestHeaders(parsed) }

    public init(_ parsed: ParsedRequestHead) {
        self.parsed = parsed
        self.method = parsed.httpMethod
        self.uri = parsed.string(parsed.target)
    }

    public var version: HTTPVersion { parsed.version }
}
