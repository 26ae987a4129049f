import COpenSSL
import Foundation
import NIOCore
import NIOEmbedded
import RepriseTLS
import Testing

/// The client side (`TLSClientContext`, `OpenSSLClientHandler`) against our own OpenSSL server
/// side, in memory: verification outcomes, ALPN, held writes, session resumption, mTLS.
@Suite("TLS client context and in-memory handshakes")
struct TLSClientTests {
    private static let request = "GET /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n"

    private func serverContext(_ certificates: TestCertificates, certificate: String? = nil, key: String? = nil, clientCA: String? = nil) throws -> TLSServerContext {
        try TLSServerContext(configuration: .init(
            certificateChainPath: certificate ?? certificates.serverCertificate,
            privateKeyPath: key ?? certificates.serverKey,
            clientCertificateAuthorityPath: clientCA
        ))
    }

    private func privateCAClient(_ certificates: TestCertificates) throws -> TLSClientContext {
        try TLSClientContext(configuration: .init(trustedCertificateAuthorityPath: certificates.caCertificate))
    }

    @Test func trustedServerCompletesAndDataFlowsAfterTheHeldWrite() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try InMemoryTLSPair(clientContext: try privateCAClient(certificates), serverContext: try serverContext(certificates))
        defer { pair.finish() }
        // Written before the handshake: held, not sent in clear.
        pair.client.writeAndFlush(ByteBuffer(string: Self.request), promise: nil)
        pair.interact()

        let completed = try #require(try pair.handshake?.get())
        #expect(completed.protocolVersion == "TLSv1.3")
        #expect(completed.alpnProtocol == "http/1.1")
        #expect(completed.serverCertificateSubject?.contains("CN=localhost") == true)
        #expect(!completed.sessionReused)
        #expect(pair.serverEvents.handshake?.alpnProtocol == "http/1.1")
        #expect(pair.serverReceived() == Self.request)
        #expect(pair.clientSent.first == 0x16, "the first byte on the wire is a TLS handshake record")
        #expect(!String(decoding: pair.clientSent, as: UTF8.self).contains("GET /v1/models"))

        try pair.server.writeOutbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"))
        pair.interact()
        #expect(pair.clientReceived().hasPrefix("HTTP/1.1 200 OK"))
    }

    @Test func anIPAddressIsCheckedAgainstTheCertificatesAddresses() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try InMemoryTLSPair(clientContext: try privateCAClient(certificates), serverContext: try serverContext(certificates),
                                       serverName: "127.0.0.1", sessionKey: "127.0.0.1:443")
        defer { pair.finish() }
        pair.interact()
        #expect(throws: Never.self) { try pair.handshake?.get() }
        #expect(pair.handshake != nil)
    }

    /// Each refused certificate fails the handshake with the kind naming the check, and not one
    /// byte of the held request reaches the server.
    @Test(arguments: [
        ("untrusted", TLSConnectionError.Kind.certificateUntrusted),
        ("hostname", .certificateHostnameMismatch),
        ("expired", .certificateExpired),
        ("address", .certificateHostnameMismatch),
    ])
    func refusedCertificatesSayWhichCheckFailed(_ scenario: String, _ expected: TLSConnectionError.Kind) throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let client: TLSClientContext
        let server: TLSServerContext
        var serverName = "localhost"
        switch scenario {
        case "untrusted":
            client = try TLSClientContext(configuration: .init())  // the system store: our CA is not in it
            server = try serverContext(certificates)
        case "hostname":
            client = try privateCAClient(certificates)
            server = try serverContext(certificates, certificate: certificates.otherHostCertificate, key: certificates.otherHostKey)
        case "expired":
            client = try privateCAClient(certificates)
            server = try serverContext(certificates, certificate: certificates.expiredCertificate, key: certificates.expiredKey)
        default:
            client = try privateCAClient(certificates)
            server = try serverContext(certificates)
            serverName = "127.0.0.2"
        }
        let pair = try InMemoryTLSPair(clientContext: client, serverContext: server, serverName: serverName)
        defer { pair.finish() }
        pair.client.writeAndFlush(ByteBuffer(string: Self.request), promise: nil)
        pair.interact()

        let failure = try #require(pair.handshake.map { result -> TLSConnectionError? in
            if case .failure(let error) = result { return error as? TLSConnectionError }
            return nil
        } ?? nil)
        #expect(failure.kind == expected, "\(failure)")
        #expect(failure.isCertificateFailure)
        #expect(failure.verificationDetail?.isEmpty == false)
        #expect(pair.clientErrors.contains { ($0 as? TLSConnectionError)?.kind == expected }, "the error also goes down the pipeline")
        #expect(pair.serverReceived().isEmpty, "nothing of the request may reach a server that was refused")
        #expect(!pair.client.isActive)
    }

    @Test func aSecondConnectionResumesTheSession() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let client = try privateCAClient(certificates)
        let server = try serverContext(certificates)
        let first = try InMemoryTLSPair(clientContext: client, serverContext: server)
        defer { first.finish() }
        first.interact()  // TLS 1.3 tickets come after the handshake, in the same exchange
        #expect(try first.handshake?.get().sessionReused == false)
        #expect(first.serverEvents.handshake?.sessionReused == false)
        #expect(client.hasSession(for: "localhost:443"))

        let second = try InMemoryTLSPair(clientContext: client, serverContext: server)
        defer { second.finish() }
        second.interact()
        #expect(try second.handshake?.get().sessionReused == true)
        #expect(second.serverEvents.handshake?.sessionReused == true, "the server side sees the resumption too")
        #expect(second.serverEvents.handshake?.protocolVersion == "TLSv1.3")
        second.client.writeAndFlush(ByteBuffer(string: "after resumption"), promise: nil)
        second.interact()
        #expect(second.serverReceived() == "after resumption")

        // Another server (another key) does not get this server's session.
        let elsewhere = try InMemoryTLSPair(clientContext: client, serverContext: server, sessionKey: "localhost:8443")
        defer { elsewhere.finish() }
        elsewhere.interact()
        #expect(try elsewhere.handshake?.get().sessionReused == false)
    }

    @Test func aClientCertificateSatisfiesAServerThatRequiresOne() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let server = try serverContext(certificates, clientCA: certificates.caCertificate)
        let withCertificate = try TLSClientContext(configuration: .init(
            trustedCertificateAuthorityPath: certificates.caCertificate,
            clientCertificateChainPath: certificates.clientCertificate, clientPrivateKeyPath: certificates.clientKey
        ))
        let accepted = try InMemoryTLSPair(clientContext: withCertificate, serverContext: server)
        defer { accepted.finish() }
        accepted.client.writeAndFlush(ByteBuffer(string: Self.request), promise: nil)
        accepted.interact()
        #expect(accepted.serverEvents.handshake?.peerCertificateSubject?.contains("reprise-test-client") == true)
        #expect(accepted.serverReceived() == Self.request)

        let refused = try InMemoryTLSPair(clientContext: try privateCAClient(certificates), serverContext: server)
        defer { refused.finish() }
        refused.client.writeAndFlush(ByteBuffer(string: Self.request), promise: nil)
        refused.interact()
        #expect(refused.serverReceived().isEmpty)
        #expect(!refused.server.isActive)
    }

    @Test func configurationErrorsNameTheFile() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        func failure(_ configuration: TLSClientConfiguration) -> TLSConfigurationError? {
            do { _ = try TLSClientContext(configuration: configuration); return nil } catch { return error }
        }
        let missing = certificates.path("missing.pem")
        #expect(failure(.init(trustedCertificateAuthorityPath: missing))?.path == missing)
        #expect(failure(.init(trustedCertificateAuthorityPath: certificates.serverKey))?.kind == .badCertificateAuthority)
        let alone = failure(.init(clientCertificateChainPath: certificates.clientCertificate))
        #expect(alone?.kind == .badSetting)
        let mismatch = failure(.init(clientCertificateChainPath: certificates.clientCertificate, clientPrivateKeyPath: certificates.unrelatedKey))
        #expect(mismatch?.kind == .keyMismatch)
        #expect(mismatch?.path == certificates.unrelatedKey)
        #expect(failure(.init()) == nil, "the system trust store loads")
    }
}
