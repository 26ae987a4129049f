import Foundation

/// Throwaway PKI made with the `openssl` CLI in a temp directory (never committed): a CA, a
/// server certificate for localhost/127.0.0.1, a second one for rotation, an expired one, one
/// for another host name, a client certificate and an unrelated key.
struct TestCertificates {
    let directory: URL

    var caCertificate: String { path("ca.pem") }
    var serverCertificate: String { path("server.pem") }
    var serverKey: String { path("server.key") }
    var rotatedCertificate: String { path("rotated.pem") }
    var rotatedKey: String { path("rotated.key") }
    var clientCertificate: String { path("client.pem") }
    var clientKey: String { path("client.key") }
    var unrelatedKey: String { path("unrelated.key") }
    /// For localhost, signed by the CA, but its validity ended a day ago.
    var expiredCertificate: String { path("expired.pem") }
    var expiredKey: String { path("expired.key") }
    /// Signed by the CA, valid, but only for `other.example`.
    var otherHostCertificate: String { path("otherhost.pem") }
    var otherHostKey: String { path("otherhost.key") }

    static let serverSerial = "1001"
    static let rotatedSerial = "2002"

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let serverExtensions = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
        try serverExtensions.write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: path("client.ext"), atomically: true, encoding: .utf8)
        try "subjectAltName=DNS:other.example\nextendedKeyUsage=serverAuth\n".write(toFile: path("otherhost.ext"), atomically: true, encoding: .utf8)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", path("ca.key"), "-out", caCertificate, "-days", "2", "-subj", "/CN=Reprise Test CA"])
        try issue(name: "server", subject: "/CN=localhost", serial: "0x" + Self.serverSerial, extensions: "server.ext")
        try issue(name: "rotated", subject: "/CN=localhost rotated", serial: "0x" + Self.rotatedSerial, extensions: "server.ext")
        try issue(name: "client", subject: "/CN=reprise-test-client", serial: "0x3003", extensions: "client.ext")
        // `-days -1`: valid from now until a day ago, i.e. expired (OpenSSL 3.0 has no -not_after).
        try issue(name: "expired", subject: "/CN=localhost", serial: "0x4004", extensions: "server.ext", days: "-1")
        try issue(name: "otherhost", subject: "/CN=other.example", serial: "0x5005", extensions: "otherhost.ext")
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", unrelatedKey])
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    private func issue(name: String, subject: String, serial: String, extensions: String, days: String = "2") throws {
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject])
        try openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", caCertificate, "-CAkey", path("ca.key"),
                     "-set_serial", serial, "-days", days, "-out", path("\(name).pem"), "-extfile", path(extensions)])
    }

    private func openssl(_ arguments: [String]) throws {
        let result = try ExternalCommand.run("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw ExternalCommand.Failure(command: "openssl " + arguments.joined(separator: " "), output: result.output) }
    }
}

/// Runs a real client program (openssl, curl) to completion, stdin optional, stdout+stderr merged.
enum ExternalCommand {
    struct Failure: Error, CustomStringConvertible {
        let command: String
        let output: String
        var description: String { "\(command) failed: \(output)" }
    }

    static func run(_ executable: String, _ arguments: [String], input: String = "", timeoutSeconds: Double = 60) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let outputPipe = Pipe()
        let inputPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = outputPipe
        process.standardInput = inputPipe
        try process.run()
        inputPipe.fileHandleForWriting.write(Data(input.utf8))
        try? inputPipe.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        let reader = DispatchQueue(label: "reader")
        nonisolated(unsafe) var data = Data()
        let done = DispatchSemaphore(value: 0)
        reader.async {
            data = outputPipe.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        done.wait()
        try? outputPipe.fileHandleForReading.close()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
