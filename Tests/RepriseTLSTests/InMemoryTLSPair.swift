import NIOCore
import NIOEmbedded
import RepriseTLS

/// Our OpenSSL client handler and our OpenSSL server handler, each in an `EmbeddedChannel`,
/// with the ciphertext carried between them by hand: a whole TLS conversation without sockets.
/// `clientSent` keeps every byte the client put on the "wire", to check what left before the
/// handshake.
final class InMemoryTLSPair {
    let client = EmbeddedChannel()
    let server = EmbeddedChannel()
    let serverEvents = EventRecorder()
    private(set) var handshake: Result<TLSClientHandshakeCompleted, any Error>?
    private(set) var clientSent: [UInt8] = []
    /// Errors the pipelines raised while bytes were carried (the handlers fire them, then close).
    private(set) var clientErrors: [any Error] = []
    private(set) var serverErrors: [any Error] = []

    /// - Parameter allocator: both channels' (the TLS handlers make their buffers with it).
    init(
        clientContext: TLSClientContext, serverContext: TLSServerContext, serverName: String = "localhost",
        sessionKey: String = "localhost:443", allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws {
        client.allocator = allocator
        server.allocator = allocator
        try server.pipeline.syncOperations.addHandler(OpenSSLServerHandler(context: serverContext))
        try server.pipeline.syncOperations.addHandler(serverEvents)
        let promise = client.eventLoop.makePromise(of: TLSClientHandshakeCompleted.self)
        promise.futureResult.assumeIsolated().whenComplete { [unowned self] in handshake = $0 }
        try client.pipeline.syncOperations.addHandler(OpenSSLClientHandler(
            context: clientContext, serverName: serverName, sessionKey: sessionKey, handshakePromise: promise
        ))
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()  // sends the hello
    }

    /// A pair over the test certificates (the client trusting their CA) whose handshake completed.
    static func connected(_ certificates: TestCertificates, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> InMemoryTLSPair {
        let server = try TLSServerContext(configuration: .init(
            certificateChainPath: certificates.serverCertificate, privateKeyPath: certificates.serverKey))
        let client = try TLSClientContext(configuration: .init(trustedCertificateAuthorityPath: certificates.caCertificate))
        let pair = try InMemoryTLSPair(clientContext: client, serverContext: server, allocator: allocator)
        pair.interact()
        guard case .success = pair.handshake else { throw HandshakeFailed(outcome: "\(String(describing: pair.handshake))") }
        return pair
    }

    struct HandshakeFailed: Error { let outcome: String }

    /// Carries ciphertext both ways until neither side has anything more to say.
    func interact() {
        for _ in 0..<50 {
            var moved = false
            while let bytes = try? client.readOutbound(as: ByteBuffer.self) {
                moved = true
                clientSent += Array(bytes.readableBytesView)
                do { try server.writeInbound(bytes) } catch { serverErrors.append(error) }
            }
            while let bytes = try? server.readOutbound(as: ByteBuffer.self) {
                moved = true
                do { try client.writeInbound(bytes) } catch { clientErrors.append(error) }
            }
            if !moved { return }
        }
    }

    /// Plaintext the server received so far.
    func serverReceived() -> String {
        var text = ""
        while let buffer = try? server.readInbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    /// Plaintext the client received so far.
    func clientReceived() -> String {
        var text = ""
        while let buffer = try? client.readInbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    func finish() {
        _ = try? client.finish()
        _ = try? server.finish()
    }
}
