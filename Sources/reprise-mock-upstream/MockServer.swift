import Dispatch
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import RepriseTLS

/// The listening server: one event loop per thread, HTTP/1.1 request decoding by NIO, responses
/// written as pre-encoded bytes by `MockConnectionHandler`. With `tls`, every connection is
/// HTTPS, terminated by RepriseTLS's OpenSSL server handler (so a client of the mock pays a
/// real TLS server's costs: handshake, session tickets, record encryption).
struct MockServer {
    let host: String
    let port: Int
    let threads: Int
    let defaults: MockDefaults
    let tls: TLSServerConfiguration?

    /// Binds, prints the listening line, serves until SIGTERM or SIGINT, then shuts down.
    func run() throws {
        // Built before binding: an unreadable or mismatched certificate stops start-up, naming the file.
        let tlsContext = try tls.map { configuration throws(TLSConfigurationError) in try TLSServerContext(configuration: configuration) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let router = MockRouter(defaults: defaults, state: MockState())
        let channel: Channel
        do {
            channel = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        if let tlsContext {
                            try sync.addHandler(OpenSSLServerHandler(context: tlsContext))
                        }
                        try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                        try sync.addHandler(MockConnectionHandler(router: router))
                    }
                }
                .bind(host: host, port: port)
                .wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }

        let boundPort = channel.localAddress?.port ?? port
        // One line, flushed at once: test harnesses and scripts wait for it.
        let scheme = tls == nil ? "" : " (https)"
        FileHandle.standardOutput.write(Data("reprise-mock-upstream listening on \(host):\(boundPort)\(scheme)\n".utf8))

        let signalSources = [SIGTERM, SIGINT].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { channel.close(promise: nil) }
            source.resume()
            return source
        }
        try channel.closeFuture.wait()
        signalSources.forEach { $0.cancel() }
        try group.syncShutdownGracefully()
    }
}
