#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOEmbedded
import NIOHTTP1
import RepriseHTTP

// `HTTPParseBench PARSER N`: parses the same 6-header chat request N times, on one connection's
// parser, so that the cost of one parse is the difference between two runs under
// callgrind/memcheck (bench/http-parse/measure.sh). PARSER is one of:
//   parser   RequestHeadParser.next on the read buffer (head ranges, body slice, end)
//   llhttp   LLHTTPRequestDecoder in an EmbeddedChannel (NIO's parts, Strings made)
//   nio      NIO's HTTPRequestDecoder(.dropBytes) in an EmbeddedChannel
//   channel  a decoder that only consumes the bytes, in an EmbeddedChannel: the channel's own
//            share of the two above
let request = ByteBuffer(string:
    "POST /v1/chat/completions HTTP/1.1\r\nHost: reprise.test\r\nContent-Type: application/json\r\n"
        + "Content-Length: 90\r\nAuthorization: Bearer sk-test-0123456789abcdef\r\nUser-Agent: OpenAI/Python 1.40.0\r\n"
        + "Accept: application/json\r\n\r\n"
        + #"{"model":"deepseek-chat","messages":[{"role":"user","content":"hostile shared question"}]}"#
)
let arguments = CommandLine.arguments
guard arguments.count == 3, let count = Int(arguments[2]) else {
    print("usage: HTTPParseBench parser|llhttp|nio|channel N")
    exit(2)
}

/// Parses `count` requests; returns how many parts came out (so nothing is optimized away).
func parseDirectly(_ count: Int) throws -> Int {
    let parser = RequestHeadParser()
    var parts = 0
    for _ in 0 ..< count {
        var buffer = request
        while let event = try parser.next(&buffer) {
            if case .head(let head) = event { parts += head.fields.count }
            parts += 1
        }
    }
    return parts
}

func decodeInChannel<Decoder: ByteToMessageDecoder>(_ decoder: Decoder, _ count: Int) throws -> Int where Decoder.InboundOut == HTTPServerRequestPart {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(decoder))
    var parts = 0
    for _ in 0 ..< count {
        try channel.writeInbound(request)
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            if case .head(let head) = part { parts += head.headers.count }
            parts += 1
        }
    }
    _ = try channel.finish()
    return parts
}

/// Consumes each read and emits nothing.
final class DiscardingDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPServerRequestPart
    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

let parts: Int
switch arguments[1] {
case "channel": parts = try decodeInChannel(DiscardingDecoder(), count)
case "parser": parts = try parseDirectly(count)
case "llhttp": parts = try decodeInChannel(LLHTTPRequestDecoder(), count)
case "nio": parts = try decodeInChannel(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes), count)
default:
    print("usage: HTTPParseBench parser|llhttp|nio|channel N")
    exit(2)
}
print("\(arguments[1]): \(count) requests, \(parts) parts")
