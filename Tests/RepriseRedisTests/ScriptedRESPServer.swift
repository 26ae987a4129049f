import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A real TCP server that records the bytes a client writes and answers every read with fixed
/// bytes: to check the exact RESP on the wire and to feed the client garbage.
final class ScriptedRESPServer: Sendable {
    let port: Int
    private let channel: Channel
    private let received: NIOLockedValueBox<[UInt8]>

    private init(port: Int, channel: Channel, received: NIOLockedValueBox<[UInt8]>) {
        self.port = port
        self.channel = channel
        self.received = received
    }

    static func start(answer: [UInt8]) async throws -> ScriptedRESPServer {
        let received = NIOLockedValueBox<[UInt8]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Recorder(received: received, answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ScriptedRESPServer(port: channel.localAddress!.port!, channel: channel, received: received)
    }

    var receivedBytes: [UInt8] { received.withLockedValue { $0 } }
    var url: String { "redis://127.0.0.1:\(port)" }

    func stop() async throws { try await channel.close() }

    private final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let received: NIOLockedValueBox<[UInt8]>
        let answer: [UInt8]

        init(received: NIOLockedValueBox<[UInt8]>, answer: [UInt8]) {
            self.received = received
            self.answer = answer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            received.withLockedValue { $0 += Array(bytes.readableBytesView) }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: answer)), promise: nil)
        }
    }
}
