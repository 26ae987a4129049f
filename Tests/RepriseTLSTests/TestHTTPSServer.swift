import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RepriseTLS

/// A real listener on 127.0.0.1, port 0: `OpenSSLServerHandler` from the provider's current
/// context, then a minimal HTTP/1.1 responder. Records handshakes, errors and open connections.
final class TestHTTPSServer: Sendable {
    static let body = "hello over tls\n"

    let provider: TLSContextProvider
    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    let recorder: Recorder

    final class Recorder: Sendable {
        private let box = NIOLockedValueBox<(handshakes: [TLSHandshakeCompleted], errors: [String], open: Int)>(([], [], 0))
        func handshake(_ event: TLSHandshakeCompleted) { box.withLockedValue { $0.handshakes.append(event) } }
        func error(_ error: any Error) { box.withLockedValue { $0.errors.append("\(error)") } }
        func opened() { box.withLockedValue { $0.open += 1 } }
        func closed() { box.withLockedValue { $0.open -= 1 } }
        var handshakes: [TLSHandshakeCompleted] { box.withLockedValue { $0.handshakes } }
        var errors: [String] { box.withLockedValue { $0.errors } }
        var openConnections: Int { box.withLockedValue { $0.open } }
    }

    var port: Int { channel.localAddress!.port! }

    init(provider: TLSContextProvider, handshakeTimeout: TimeAmount? = .seconds(10)) async throws {
        self.provider = provider
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let recorder = Recorder()
        self.group = group
        self.recorder = recorder
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try provider.makeHandler(handshakeTimeout: handshakeTimeout)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHandler(FixedHTTPResponder(recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    func shutdown() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }
}

/// Answers every HTTP/1.1 request (headers end at CRLFCRLF; bodies ignored) with 200 and a
/// fixed body. Just enough for curl.
final class FixedHTTPResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let recorder: TestHTTPSServer.Recorder
    private var received = ""

    init(recorder: TestHTTPSServer.Recorder) { self.recorder = recorder }

    func channelActive(context: ChannelHandlerContext) {
        recorder.opened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        recorder.closed()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let handshake = event as? TLSHandshakeCompleted { recorder.handshake(handshake) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        recorder.error(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += String(buffer: unwrapInboundIn(data))
        while let end = received.range(of: "\r\n\r\n") {
            received.removeSubrange(received.startIndex..<end.upperBound)
            let body = TestHTTPSServer.body
            let response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response)), promise: nil)
        }
    }
}

/// Open file descriptors of this process; retried until it settles back to `atMost`.
enum FileDescriptors {
    static func count() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    static func settle(atMost limit: Int, timeoutSeconds: Double = 20) async -> Int {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var current = count()
        while current > limit && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(200))
            current = count()
        }
        return current
    }
}
