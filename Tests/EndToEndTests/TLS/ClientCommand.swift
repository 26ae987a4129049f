import Foundation

/// A real client program (openssl, curl) run to completion with a deadline; stdin is empty.
enum ClientCommand {
    struct Result: Sendable {
        let exitCode: Int32
        let stdout: String
        let stderr: String
        /// stdout then stderr, for searching and failure messages.
        var output: String { stdout + "\n" + stderr }
    }

    static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> Result {
        let process = try ManagedProcess(executable: URL(fileURLWithPath: executable), arguments: arguments)
        let code = try await process.waitForExit(timeout: timeout)
        // The pipes may still be draining just after the exit.
        try await Task.sleep(for: .milliseconds(30))
        return Result(exitCode: code, stdout: process.stdout, stderr: process.stderr)
    }

    /// `openssl s_client` against 127.0.0.1:`port` (SNI localhost), stdin empty: it completes the
    /// handshake, prints the session and leaves.
    static func sClient(port: Int, _ arguments: [String]) async throws -> Result {
        try await run("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"] + arguments,
                      timeout: .seconds(30))
    }

    /// The `Protocol  : TLSv1.x` line of a completed s_client session (nil when none was negotiated).
    static func negotiatedProtocol(_ result: Result) -> String? {
        guard let match = result.output.firstMatch(of: #/New, (TLSv1(?:\.[0-9])?), Cipher is (\S+)/#) else { return nil }
        return String(match.output.1)
    }

    static func negotiatedCipher(_ result: Result) -> String? {
        guard let match = result.output.firstMatch(of: #/New, TLSv1(?:\.[0-9])?, Cipher is (\S+)/#) else { return nil }
        return String(match.output.1)
    }

    /// The leaf certificate's subject line (`CN = ...`) of an s_client session.
    static func peerSubject(_ result: Result) -> String? {
        guard let match = result.output.firstMatch(of: #/subject=([^\n]+)/#) else { return nil }
        return String(match.output.1).trimmingCharacters(in: .whitespaces)
    }
}

extension ClientCommand {
    struct NoCertificate: Error, CustomStringConvertible {
        let output: String
        var description: String { "no server certificate in s_client output: \(output.prefix(2000))" }
    }

    /// The leaf certificate's serial (hex, as `openssl x509 -serial` prints it) of an s_client session.
    static func peerSerial(_ result: Result) async throws -> String {
        guard let begin = result.stdout.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = result.stdout.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<result.stdout.endIndex)
        else { throw NoCertificate(output: result.output) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("peer-\(UUID().uuidString).pem").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try String(result.stdout[begin.lowerBound..<end.upperBound] + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let printed = try await run("/usr/bin/openssl", ["x509", "-in", file, "-noout", "-serial"])
        guard let match = printed.stdout.firstMatch(of: #/serial=([0-9A-Fa-f]+)/#) else { throw NoCertificate(output: printed.output) }
        return String(match.output.1)
    }
}
