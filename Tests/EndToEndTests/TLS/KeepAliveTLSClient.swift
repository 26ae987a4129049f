import Foundation
import NIOConcurrencyHelpers

/// One long-lived TLS connection through `openssl s_client -quiet`: requests are written to its
/// stdin as they are needed, so a test can send a second request on the same connection later
/// (after a certificate reload, say). Responses are read back from its stdout.
final class KeepAliveTLSClient {
    struct Failure: Error, CustomStringConvertible { let description: String }

    struct Response {
        let status: Int
        let head: String
        let body: String
        func header(_ name: String) -> String? {
            for line in head.split(separator: "\r\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    private let process: Process
    private let input: FileHandle
    private let output = NIOLockedValueBox<[UInt8]>([])

    init(port: Int, caFile: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-CAfile", caFile,
                             "-verify_return_error", "-quiet", "-nocommands"]
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stdoutPipe
        try process.run()
        self.process = process
        self.input = stdinPipe.fileHandleForWriting
        let handle = stdoutPipe.fileHandleForReading
        let output = self.output
        Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                output.withLockedValue { $0.append(contentsOf: data) }
            }
        }.start()
    }

    deinit { close() }

    var text: String { output.withLockedValue { String(decoding: $0, as: UTF8.self) } }

    func send(_ text: String) throws {
        guard process.isRunning else { throw Failure(description: "s_client already exited: \(self.text)") }
        try input.write(contentsOf: Data(text.utf8))
    }

    func close() {
        if process.isRunning { process.terminate() }
        try? input.close()
    }

    /// Waits until `count` complete responses (Content-Length bodies) have arrived and returns them.
    func waitForResponses(_ count: Int, timeout: Duration = .seconds(30)) async throws -> [Response] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let responses = Self.parse(text)
            if responses.count >= count { return responses }
            guard ContinuousClock.now < deadline else {
                throw Failure(description: "\(responses.count) of \(count) responses after the timeout; s_client output:\n\(text)")
            }
            if !process.isRunning {
                try await Task.sleep(for: .milliseconds(50))
                let last = Self.parse(text)
                if last.count >= count { return last }
                throw Failure(description: "s_client exited after \(last.count) of \(count) responses:\n\(text)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Complete `HTTP/1.1` responses with a Content-Length body, in order.
    static func parse(_ text: String) -> [Response] {
        var responses: [Response] = []
        var rest = Substring(text)
        while let start = rest.range(of: "HTTP/1.1 ") {
            let fromStart = rest[start.lowerBound...]
            guard let headEnd = fromStart.range(of: "\r\n\r\n") else { break }
            let head = String(fromStart[..<headEnd.lowerBound])
            let statusText = head.dropFirst("HTTP/1.1 ".count).prefix(3)
            let partial = Response(status: Int(statusText) ?? 0, head: head, body: "")
            let length = Int(partial.header("content-length") ?? "0") ?? 0
            let bodyBytes = Array(fromStart[headEnd.upperBound...].utf8)
            guard bodyBytes.count >= length else { break }
            let body = String(decoding: bodyBytes[0..<length], as: UTF8.self)
            responses.append(Response(status: partial.status, head: head, body: body))
            let consumed = head.utf8.count + 4 + length
            rest = Substring(String(decoding: Array(fromStart.utf8).dropFirst(consumed), as: UTF8.self))
        }
        return responses
    }
}
