import NIOCore
import NIOHTTP1
import RepriseHTTP
@testable import RepriseProxy

/// Request heads as the connection handler gets them: written out as bytes and read back by
/// `RequestHeadParser`, so a test states a head as NIO's `HTTPRequestHead`.
enum ParsedHeads {
    static func parse(_ head: HTTPRequestHead) -> ParsedRequestHead {
        var text = "\(head.method.rawValue) \(head.uri) HTTP/\(head.version.major).\(head.version.minor)\r\n"
        for (name, value) in head.headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        var bytes = ByteBuffer(string: text)
        guard case .head(let parsed)? = try? RequestHeadParser().next(&bytes) else {
            preconditionFailure("not a request head the parser accepts: \(text)")
        }
        return parsed
    }

    /// The header lines of a GET request carrying `headers`, as the proxy reads them.
    static func headers(_ headers: HTTPHeaders) -> RequestHeaders {
        RequestHead(parse(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers))).headers
    }
}
