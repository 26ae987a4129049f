import Foundation

/// A throwaway PKI made with the `openssl` CLI in a temp directory at test time (never
/// committed): a CA, an ECDSA server certificate for localhost/127.0.0.1, a second one for
/// rotation, an RSA server certificate (for RSA-only cipher checks), an expired one, one for
/// another host name, a client certificate, an unrelated key (a "mismatched pair") and a file
/// that is not PEM at all.
struct TLSTestPKI: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let command: String
        let output: String
        var description: String { "\(command) failed: \(output)" }
    }

    let directory: URL

    static let serverSubject = "CN = localhost"
    static let rotatedSubject = "CN = localhost rotated"
    static let serverSerial = "1001"
    static let rotatedSerial = "2002"

    var caCertificate: String { path("ca.pem") }
    var serverCertificate: String { path("server.pem") }
    var serverKey: String { path("server.key") }
    var rotatedCertificate: String { path("rotated.pem") }
    var rotatedKey: String { path("rotated.key") }
    var rsaCertificate: String { path("rsa.pem") }
    var rsaKey: String { path("rsa.key") }
    var clientCertificate: String { path("client.pem") }
    var clientKey: String { path("client.key") }
    var unrelatedKey: String { path("unrelated.key") }
    var notPEM: String { path("garbage.pem") }
    /// For localhost/127.0.0.1, signed by the CA, validity ended a day ago.
    var expiredCertificate: String { path("expired.pem") }
    var expiredKey: String { path("expired.key") }
    /// Signed by the CA, valid, but only for `other.example`.
    var otherHostCertificate: String { path("otherhost.pem") }
    var otherHostKey: String { path("otherhost.key") }

    static func make() async throws -> TLSTestPKI {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-tls-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pki = TLSTestPKI(directory: directory)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
            .write(toFile: pki.path("server.ext"), atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: pki.path("client.ext"), atomically: true, encoding: .utf8)
        try "subjectAltName=DNS:other.example\nextendedKeyUsage=serverAuth\n"
            .write(toFile: pki.path("otherhost.ext"), atomically: true, encoding: .utf8)
        try "this is not a certificate\n".write(toFile: pki.notPEM, atomically: true, encoding: .utf8)
        try await pki.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                               "-keyout", pki.path("ca.key"), "-out", pki.caCertificate, "-days", "2",
                               "-subj", "/CN=Reprise E2E Test CA"])
        let ec = ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        try await pki.issue("server", key: ec, subject: "/CN=localhost", serial: serverSerial, extensions: "server.ext")
        try await pki.issue("rotated", key: ec, subject: "/CN=localhost rotated", serial: rotatedSerial, extensions: "server.ext")
        try await pki.issue("rsa", key: ["rsa:2048"], subject: "/CN=localhost rsa", serial: "4004", extensions: "server.ext")
        try await pki.issue("client", key: ec, subject: "/CN=reprise-e2e-client", serial: "3003", extensions: "client.ext")
        // `-days -1`: valid from now until a day ago, i.e. expired (OpenSSL 3.0 has no -not_after).
        try await pki.issue("expired", key: ec, subject: "/CN=localhost", serial: "5005", extensions: "server.ext", days: "-1")
        try await pki.issue("otherhost", key: ec, subject: "/CN=other.example", serial: "6006", extensions: "otherhost.ext")
        try await pki.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pki.unrelatedKey])
        return pki
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// Copies `source` over `destination` through a temp file and a rename, the way a Secret
    /// update lands (a reader never sees half a file).
    func replace(_ destination: String, with source: String) throws {
        let staging = destination + ".staging-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: source, toPath: staging)
        guard rename(staging, destination) == 0 else {
            throw Failure(command: "rename \(staging) \(destination)", output: "errno \(errno)")
        }
    }

    private func issue(_ name: String, key: [String], subject: String, serial: String, extensions: String, days: String = "2") async throws {
        try await openssl(["req", "-newkey"] + key + ["-nodes", "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject])
        try await openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", caCertificate, "-CAkey", path("ca.key"),
                           "-set_serial", "0x" + serial, "-days", days, "-out", path("\(name).pem"), "-extfile", path(extensions)])
    }

    private func openssl(_ arguments: [String]) async throws {
        let result = try await ClientCommand.run("/usr/bin/openssl", arguments)
        guard result.exitCode == 0 else { throw Failure(command: "openssl " + arguments.joined(separator: " "), output: result.output) }
    }
}
