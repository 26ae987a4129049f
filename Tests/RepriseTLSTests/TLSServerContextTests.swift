import COpenSSL
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import RepriseTLS
import Testing

@Suite("TLS server context and in-memory handshakes")
struct TLSServerContextTests {
    @Test func configurationErrorsNameTheFile() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let missing = certificates.path("missing.pem")
        let garbage = certificates.path("garbage.pem")
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)

        func failure(_ configuration: TLSServerConfiguration) -> TLSConfigurationError? {
            do { _ = try TLSServerContext(configuration: configuration); return nil } catch { return error }
        }
        let unreadable = failure(.init(certificateChainPath: missing, privateKeyPath: certificates.serverKey))
        #expect(unreadable?.kind == .unreadableFile)
        #expect(unreadable?.path == missing)
        #expect(unreadable?.description.contains(missing) == true)

        let badCertificate = failure(.init(certificateChainPath: garbage, privateKeyPath: certificates.serverKey))
        #expect(badCertificate?.kind == .badCertificate)
        #expect(badCertificate?.path == garbage)

        let badKey = failure(.init(certificateChainPath: certificates.serverCertificate, privateKeyPath: garbage))
        #expect(badKey?.kind == .badPrivateKey)
        #expect(badKey?.path == garbage)

        let mismatch = failure(.init(certificateChainPath: certificates.serverCertificate, privateKeyPath: certificates.unrelatedKey))
        #expect(mismatch?.kind == .keyMismatch)
        #expect(mismatch?.path == certificates.unrelatedKey)
        #expect(mismatch?.openSSLErrors.isEmpty == false)

        let badCA = failure(.init(certificateChainPath: certificates.serverCertificate, privateKeyPath: certificates.serverKey, clientCertificateAuthorityPath: garbage))
        #expect(badCA?.kind == .badCertificateAuthority)
        #expect(badCA?.path == garbage)

        let badCipher = failure(.init(certificateChainPath: certificates.serverCertificate, privateKeyPath: certificates.serverKey, tls12CipherList: "NOT-A-CIPHER"))
        #expect(badCipher?.kind == .badSetting)

        let good = try TLSServerContext(configuration: .init(certificateChainPath: certificates.serverCertificate, privateKeyPath: certificates.serverKey))
        #expect(good.certificateSerial == TestCertificates.serverSerial)
        #expect(good.certificateSubject.contains("localhost"))
    }

    @Test func inMemoryHandshakeExchangesDataAndSurvivesReload() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let live = certificates.path("live")
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: certificates.serverCertificate, toPath: live + "/tls.crt")
        try FileManager.default.copyItem(atPath: certificates.serverKey, toPath: live + "/tls.key")
        let provider = try TLSContextProvider(
            configuration: .init(certificateChainPath: live + "/tls.crt", privateKeyPath: live + "/tls.key"),
            logger: Logger(label: "test")
        )

        let (oldChannel, oldClient) = try connectInMemory(provider: provider, caFile: certificates.caCertificate)
        #expect(oldClient.peerCertificateSerial == TestCertificates.serverSerial)

        // Rotate: new connections get the new certificate, the open one keeps working.
        try FileManager.default.removeItem(atPath: live + "/tls.crt")
        try FileManager.default.removeItem(atPath: live + "/tls.key")
        try FileManager.default.copyItem(atPath: certificates.rotatedCertificate, toPath: live + "/tls.crt")
        try FileManager.default.copyItem(atPath: certificates.rotatedKey, toPath: live + "/tls.key")
        try provider.reload()
        let (newChannel, newClient) = try connectInMemory(provider: provider, caFile: certificates.caCertificate)
        #expect(newClient.peerCertificateSerial == TestCertificates.rotatedSerial)

        oldClient.write("ping after reload")
        try oldChannel.writeInbound(ByteBuffer(bytes: oldClient.takeCiphertext()))
        let plaintext = try oldChannel.readInbound(as: ByteBuffer.self)
        #expect(plaintext.map { String(buffer: $0) } == "ping after reload")
        try oldChannel.writeOutbound(ByteBuffer(string: "pong"))
        oldClient.feed(drainOutbound(oldChannel))
        #expect(oldClient.readAvailable() == "pong")

        // A broken pair (rotated cert, unrelated key) keeps the rotated context.
        try FileManager.default.removeItem(atPath: live + "/tls.key")
        try FileManager.default.copyItem(atPath: certificates.unrelatedKey, toPath: live + "/tls.key")
        #expect(throws: TLSConfigurationError.self) { try provider.reload() }
        #expect(provider.current.certificateSerial == TestCertificates.rotatedSerial)

        _ = try? oldChannel.finish()
        _ = try? newChannel.finish()
    }

    @Test func garbageInMemoryFailsWithTypedErrorAndCloses() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let context = try TLSServerContext(configuration: .init(certificateChainPath: certificates.serverCertificate, privateKeyPath: certificates.serverKey))
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(try OpenSSLServerHandler(context: context))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(throws: TLSConnectionError.self) {
            try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: plain-http-to-tls\r\n\r\n"))
        }
        #expect(!channel.isActive)
    }

    private func connectInMemory(provider: TLSContextProvider, caFile: String) throws -> (EmbeddedChannel, MemoryTLSClient) {
        let channel = EmbeddedChannel()
        let events = EventRecorder()
        try channel.pipeline.syncOperations.addHandler(try provider.makeHandler())
        try channel.pipeline.syncOperations.addHandler(events)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let client = MemoryTLSClient(caFile: caFile)
        var rounds = 0
        while !client.handshake() || events.handshake == nil {
            rounds += 1
            precondition(rounds < 10, "handshake did not converge")
            try channel.writeInbound(ByteBuffer(bytes: client.takeCiphertext()))
            client.feed(drainOutbound(channel))
        }
        #expect(events.handshake?.alpnProtocol == "http/1.1")
        #expect(events.handshake?.protocolVersion == "TLSv1.3")
        return (channel, client)
    }

    private func drainOutbound(_ channel: EmbeddedChannel) -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { bytes += Array(buffer.readableBytesView) }
        return bytes
    }
}

final class EventRecorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    var handshake: TLSHandshakeCompleted?

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSHandshakeCompleted { handshake = event }
        context.fireUserInboundEventTriggered(event)
    }
}
