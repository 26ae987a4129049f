import Foundation
import Logging
import NIOCore
import NIOPosix
import RepriseTLS
import Testing

/// Real sockets, real clients (curl, openssl s_client) against `OpenSSLServerHandler`.
/// Serialized: the file-descriptor checks need a quiet process.
@Suite("TLS over the network", .serialized)
struct TLSNetworkTests {
    let certificates: TestCertificates

    init() throws { certificates = try TestCertificates() }

    private func makeServer(clientCA: Bool = false, handshakeTimeout: TimeAmount? = .seconds(10)) async throws -> TestHTTPSServer {
        let configuration = TLSServerConfiguration(
            certificateChainPath: certificates.serverCertificate,
            privateKeyPath: certificates.serverKey,
            clientCertificateAuthorityPath: clientCA ? certificates.caCertificate : nil
        )
        let provider = try TLSContextProvider(configuration: configuration, logger: Logger(label: "test"))
        return try await TestHTTPSServer(provider: provider, handshakeTimeout: handshakeTimeout)
    }

    private func curl(_ server: TestHTTPSServer, _ extra: [String] = []) throws -> (status: Int32, output: String) {
        try ExternalCommand.run("/usr/bin/curl", [
            "-sS", "-v", "--max-time", "30", "--cacert", certificates.caCertificate,
            "--resolve", "localhost:\(server.port):127.0.0.1", "https://localhost:\(server.port)/",
        ] + extra)
    }

    private func sClient(_ server: TestHTTPSServer, _ extra: [String]) throws -> (status: Int32, output: String) {
        try ExternalCommand.run("/usr/bin/openssl", [
            "s_client", "-connect", "127.0.0.1:\(server.port)", "-servername", "localhost",
            "-CAfile", certificates.caCertificate, "-verify_return_error",
        ] + extra)
    }

    @Test func curlGetsTheBodyAndBothVersionsNegotiate() async throws {
        let server = try await makeServer()
        let response = try curl(server)
        #expect(response.status == 0, "\(response.output)")
        #expect(response.output.contains(TestHTTPSServer.body))

        let tls12 = try sClient(server, ["-tls1_2"])
        #expect(tls12.status == 0, "\(tls12.output)")
        #expect(tls12.output.contains("Protocol  : TLSv1.2"))
        #expect(tls12.output.contains("ECDHE-ECDSA-AES"))
        #expect(tls12.output.contains("Verify return code: 0 (ok)"))

        let tls13 = try sClient(server, ["-tls1_3", "-alpn", "http/1.1"])
        #expect(tls13.status == 0, "\(tls13.output)")
        #expect(tls13.output.contains("New, TLSv1.3, Cipher is TLS_"))
        #expect(tls13.output.contains("ALPN protocol: http/1.1"))

        let versions = Set(server.recorder.handshakes.map(\.protocolVersion))
        #expect(versions == ["TLSv1.2", "TLSv1.3"])
        try await server.shutdown()
    }

    @Test func oldProtocolsWeakCiphersAndH2OnlyAreRefused() async throws {
        let server = try await makeServer()
        // SECLEVEL=0 lets this client offer what Debian's defaults would not, so that the refusal
        // we see is the server's.
        let attempts: [[String]] = [
            ["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"],
            ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
            ["-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"],
            ["-tls1_2", "-cipher", "DES-CBC3-SHA:@SECLEVEL=0"],
            ["-tls1_2", "-cipher", "RC4:@SECLEVEL=0"],
            ["-tls1_3", "-alpn", "h2"],
        ]
        for attempt in attempts {
            let result = try sClient(server, attempt)
            #expect(result.status != 0, "accepted \(attempt): \(result.output)")
            #expect(!result.output.contains("Verify return code: 0 (ok)") || result.output.contains("alert"), "\(attempt): \(result.output)")
        }
        #expect(server.recorder.handshakes.isEmpty)
        // The refusals the client could make on the wire are the server's: it logged them.
        let errors = server.recorder.errors.joined(separator: "\n")
        #expect(errors.contains("unsupported protocol"))
        #expect(errors.contains("no shared cipher"))
        #expect(errors.contains("no application protocol") || errors.contains("no_application_protocol") || errors.contains("ALPN"), "\(errors)")
        try await server.shutdown()
    }

    @Test func mutualTLSAcceptsTheClientCertificateAndRefusesNone() async throws {
        let server = try await makeServer(clientCA: true)
        let with = try curl(server, ["--cert", certificates.clientCertificate, "--key", certificates.clientKey])
        #expect(with.status == 0, "\(with.output)")
        #expect(with.output.contains(TestHTTPSServer.body))
        #expect(server.recorder.handshakes.last?.peerCertificateSubject?.contains("reprise-test-client") == true)

        let without = try curl(server)
        #expect(without.status != 0)
        #expect(!without.output.contains(TestHTTPSServer.body))
        #expect(server.recorder.errors.joined().contains("certificate"), "\(server.recorder.errors)")
        try await server.shutdown()
    }

    /// `openssl s_client -sess_out` keeps the session the server gave (a TLS 1.2 session id and
    /// ticket, or the TLS 1.3 ticket sent after the handshake), `-sess_in` offers it again: the
    /// second handshake is abbreviated (`Reused`) and the server reports it as resumed.
    @Test(arguments: ["-tls1_2", "-tls1_3"])
    func aClientResumesItsSession(version: String) async throws {
        let server = try await makeServer()
        let session = certificates.path("session\(version).pem")
        // stdin stays open a moment: a TLS 1.3 ticket arrives after the handshake, and s_client
        // leaves at the end of its input.
        func connect(_ sessionOption: String) throws -> (status: Int32, output: String) {
            try ExternalCommand.run("/bin/sh", ["-c", """
                sleep 1 | /usr/bin/openssl s_client -connect 127.0.0.1:\(server.port) -servername localhost \
                  -CAfile \(certificates.caCertificate) -verify_return_error \(version) \(sessionOption) \(session) 2>&1
                """])
        }
        let first = try connect("-sess_out")
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("New, TLSv1."), "\(first.output)")
        #expect(FileManager.default.fileExists(atPath: session), "no session was written: \(first.output)")

        let second = try connect("-sess_in")
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("Reused, TLSv1."), "\(second.output)")
        #expect(server.recorder.handshakes.map(\.sessionReused) == [false, true])
        let expectedVersion = version == "-tls1_2" ? "TLSv1.2" : "TLSv1.3"
        #expect(server.recorder.handshakes.allSatisfy { $0.protocolVersion == expectedVersion })
        try await server.shutdown()
    }

    @Test func kubernetesStyleRotationIsPickedUpByTheWatcher() async throws {
        // A mounted Secret: tls.crt -> ..data/tls.crt, ..data -> a generation directory.
        let mount = certificates.path("mount")
        let fileManager = FileManager.default
        func generation(_ name: String, certificate: String, key: String) throws {
            try fileManager.createDirectory(atPath: "\(mount)/\(name)", withIntermediateDirectories: true)
            try fileManager.copyItem(atPath: certificate, toPath: "\(mount)/\(name)/tls.crt")
            try fileManager.copyItem(atPath: key, toPath: "\(mount)/\(name)/tls.key")
        }
        try generation("gen1", certificate: certificates.serverCertificate, key: certificates.serverKey)
        try fileManager.createSymbolicLink(atPath: "\(mount)/..data", withDestinationPath: "gen1")
        try fileManager.createSymbolicLink(atPath: "\(mount)/tls.crt", withDestinationPath: "..data/tls.crt")
        try fileManager.createSymbolicLink(atPath: "\(mount)/tls.key", withDestinationPath: "..data/tls.key")

        let provider = try TLSContextProvider(
            configuration: .init(certificateChainPath: "\(mount)/tls.crt", privateKeyPath: "\(mount)/tls.key"),
            logger: Logger(label: "test")
        )
        let server = try await TestHTTPSServer(provider: provider)
        let watcher = TLSCertificateWatcher(provider: provider, pollInterval: .milliseconds(200), logger: Logger(label: "test"))
        let watching = Task { await watcher.run() }
        defer { watching.cancel() }

        let before = try curl(server)
        #expect(before.output.contains("subject: CN=localhost\n") || before.output.contains("subject: CN=localhost\r"), "\(before.output)")

        // Atomic swap of ..data, as kubelet does.
        try generation("gen2", certificate: certificates.rotatedCertificate, key: certificates.rotatedKey)
        try fileManager.createSymbolicLink(atPath: "\(mount)/..data_tmp", withDestinationPath: "gen2")
        #expect(rename("\(mount)/..data_tmp", "\(mount)/..data") == 0)

        let deadline = Date().addingTimeInterval(30)
        while provider.current.certificateSerial != TestCertificates.rotatedSerial && Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let after = try curl(server)
        #expect(after.status == 0)
        #expect(after.output.contains("subject: CN=localhost rotated"), "\(after.output)")

        // A broken generation (certificate without its key) keeps the rotated one serving.
        try generation("gen3", certificate: certificates.serverCertificate, key: certificates.unrelatedKey)
        try fileManager.createSymbolicLink(atPath: "\(mount)/..data_tmp", withDestinationPath: "gen3")
        #expect(rename("\(mount)/..data_tmp", "\(mount)/..data") == 0)
        try await Task.sleep(for: .seconds(1))
        #expect(provider.current.certificateSerial == TestCertificates.rotatedSerial)
        let stillServing = try curl(server)
        #expect(stillServing.output.contains("subject: CN=localhost rotated"), "\(stillServing.output)")
        try await server.shutdown()
    }

    @Test func badClientsNeitherCrashNorLeak() async throws {
        let server = try await makeServer(handshakeTimeout: .seconds(2))
        _ = try curl(server)  // warm up lazily opened descriptors
        let descriptorsBefore = FileDescriptors.count()
        let port = server.port

        // Garbage bytes, a client stopping mid-handshake (held open), a client vanishing mid-request.
        let garbage = try ExternalCommand.run("/bin/sh", ["-c", "head -c 4096 /dev/urandom | timeout 10 curl -sS --max-time 5 -T - telnet://127.0.0.1:\(port) >/dev/null 2>&1; true"])
        #expect(garbage.status == 0)
        let stalled = try ExternalCommand.run("/bin/sh", ["-c", "(printf '\\026\\003\\001\\002\\000\\001\\000'; sleep 6) | timeout 10 curl -sS --max-time 8 -T - telnet://127.0.0.1:\(port) >/dev/null 2>&1; true"])
        #expect(stalled.status == 0)
        let vanished = try ExternalCommand.run("/bin/sh", ["-c", "(printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n'; sleep 6) | timeout -s KILL 3 openssl s_client -quiet -connect 127.0.0.1:\(port) >/dev/null 2>&1; true"])
        #expect(vanished.status == 0)

        let deadline = Date().addingTimeInterval(20)
        while server.recorder.openConnections > 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(server.recorder.openConnections == 0)
        let descriptorsAfter = await FileDescriptors.settle(atMost: descriptorsBefore)
        #expect(descriptorsAfter <= descriptorsBefore, "fds before \(descriptorsBefore), after \(descriptorsAfter)")
        let errors = server.recorder.errors.joined(separator: "\n")
        #expect(errors.contains("handshakeTimedOut"), "\(errors)")
        #expect(errors.contains("handshakeFailed"), "\(errors)")

        // Still serving.
        let after = try curl(server)
        #expect(after.output.contains(TestHTTPSServer.body))
        try await server.shutdown()
    }

    /// Manual mode for `scripts/tls-scan.sh`: REPRISE_TLS_SERVE_SECONDS=300 swift test --filter serveForScanning
    /// writes "PORT CA_PATH" to $REPRISE_TLS_SERVE_INFO (default /tmp/reprise-tls-serve.txt) and serves.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["REPRISE_TLS_SERVE_SECONDS"] != nil))
    func serveForScanning() async throws {
        let seconds = Int(ProcessInfo.processInfo.environment["REPRISE_TLS_SERVE_SECONDS"] ?? "") ?? 300
        let info = ProcessInfo.processInfo.environment["REPRISE_TLS_SERVE_INFO"] ?? "/tmp/reprise-tls-serve.txt"
        let server = try await makeServer()
        try "\(server.port) \(certificates.caCertificate)\n".write(toFile: info, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .seconds(seconds))
        try await server.shutdown()
    }
}
