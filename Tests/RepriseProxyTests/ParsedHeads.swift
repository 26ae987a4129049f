import NIOCore
import NIOHTTP1
import RepriseHTTP

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
}
