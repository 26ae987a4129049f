import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Sends raw bytes over one TCP connection and collects everything the server writes until it
/// closes: for what HTTP clients won't do (pipelining, malformed or hand-written requests).
enum RawTCPClient {
    struct TimedOut: Error, CustomStringConvertible {
        let received: String
        var description: String { "server did not close the connection in time; received so far:\n\(received)" }
    }

    /// Writes `request`, then reads until the server closes (make the last request
    /// `Connection: close`) or `timeout` passes (then throws `TimedOut` with what arrived).
    static func exchange(host: String = "127.0.0.1", port: Int, request: String, timeout: Duration = .seconds(30)) async throws -> String {
        let collector = CollectingHandler.Box()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CollectingHandler(box: collector))
                }
            }
            .connect(host: host, port: port)
            .get()
        try await channel.writeAndFlush(ByteBuffer(string: request))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if collector.isClosed { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard collector.isClosed else {
            try? await channel.close()
            throw TimedOut(received: collector.text)
        }
        return collector.text
    }
}

private final class CollectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Shared with the waiting task; all access under the lock.
    final class Box: Sendable {
        private let state = NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>(([], false))
        var isClosed: Bool { state.withLockedValue { $0.closed } }
        var text: String { state.withLockedValue { String(decoding: $0.bytes, as: UTF8.self) } }
        func append(_ buffer: ByteBuffer) { state.withLockedValue { $0.bytes.append(contentsOf: buffer.readableBytesView) } }
        func close() { state.withLockedValue { $0.closed = true } }
    }

    private let box: Box

    init(box: Box) {
        self.box = box
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        box.append(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        box.close()
        context.fireChannelInactive()
    }
}
