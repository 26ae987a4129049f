import NIOCore
import NIOEmbedded
import NIOHTTP1

/// What one HTTP request decoder made of some bytes delivered in pieces: each part it emitted
/// and each error it raised, in order, as text (a head with its keep-alive decision).
struct DecoderRun: Equatable, CustomStringConvertible {
    var events: [String] = []

    var description: String { events.joined(separator: "\n") }

    /// The events up to and including the first error.
    var throughFirstError: DecoderRun {
        guard let first = events.firstIndex(where: { $0.hasPrefix("error ") || $0.hasPrefix("thrown ") }) else { return self }
        return DecoderRun(events: Array(events[...first]))
    }

    /// Runs `decoder` in a channel of its own: each piece is one read, then the input closes.
    static func of<Decoder: ByteToMessageDecoder>(_ decoder: Decoder, pieces: [ArraySlice<UInt8>]) -> DecoderRun
    where Decoder.InboundOut == HTTPServerRequestPart {
        let recorder = Recorder()
        let channel = EmbeddedChannel(handlers: [ByteToMessageHandler(decoder), recorder])
        for piece in pieces {
            do {
                try channel.writeInbound(ByteBuffer(bytes: piece))
            } catch {
                recorder.run.events.append("thrown \(error)")
            }
        }
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        _ = try? channel.finish()
        return recorder.run
    }

    private final class Recorder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        var run = DecoderRun()

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                let headers = head.headers.map { "\($0.name): \($0.value)" }.joined(separator: " | ")
                run.events.append("head \(head.method) \(head.uri) \(head.version) [\(headers)] keepAlive=\(head.isKeepAlive)")
            case .body(let bytes):
                run.events.append("body \(String(buffer: bytes).debugDescription)")
            case .end(let trailers):
                run.events.append("end \(trailers.map { $0.map { "\($0.name): \($0.value)" } } ?? [])")
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            run.events.append("error \(error)")
        }
    }
}
