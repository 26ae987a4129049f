import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client for byte-exact HTTP tests: it sends exactly the bytes given (pipelined
/// requests, malformed requests, oversized heads) and parses responses itself, recording when
/// each body chunk arrived.
final class RawHTTPConnection {
    struct Failure: Error, CustomStringConvertible { let description: String }

    struct Response {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        /// Each chunk of a chunked body, with the time it was fully received.
        var chunks: [(data: [UInt8], receivedAt: ContinuousClock.Instant)] = []

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    private let fd: Int32
    private var buffer: [UInt8] = []

    /// `sendTimeout`: how long a send may wait for room (`sendSome`); nil waits as long as it takes.
    init(port: Int, timeout: Double = 30, sendTimeout: Duration? = nil) throws {
        do {
            fd = try LoopbackSocket.connect(port: port)
        } catch {
            throw Failure(description: "\(error)")  // callers expect this type (a refused connect)
        }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if let sendTimeout {
            var sendTV = timeval(tv_sec: Int(sendTimeout.components.seconds), tv_usec: Int(sendTimeout.components.attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTV, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            offset += sent
        }
    }

    /// Sends what the socket takes before the send timeout: the byte count, 0 when there was no
    /// room (the peer does not read), nil when the connection failed.
    func sendSome(_ bytes: ArraySlice<UInt8>) -> Int? {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent >= 0 { return sent }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : nil
    }

    /// Reads raw bytes until `marker` has arrived (what the OpenAI SDK does with `data: [DONE]`
    /// before it hangs up); returns everything read so far. Throws when the peer closes first.
    func read(until marker: String) throws -> String {
        let needle = Array(marker.utf8)
        while !buffer.contains(needle) {
            guard try readMore() else { throw Failure(description: "connection closed before '\(marker)'") }
        }
        defer { buffer = [] }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Reads until the peer closes; true when it did (false on timeout).
    func waitForClose() -> Bool {
        while true {
            guard let more = try? readMore() else { return false }
            if !more { return true }
        }
    }

    /// Reads more bytes into the buffer; false when the peer closed.
    private func readMore() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count == 0 { return false }
        if count < 0 {
            if errno == ECONNRESET { return false }
            throw Failure(description: "recv failed or timed out: errno \(errno)")
        }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    private func readLine() throws -> String {
        while true {
            if let index = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<index])
                buffer.removeFirst(index + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard try readMore() else { throw Failure(description: "connection closed inside a line") }
        }
    }

    private func readExactly(_ count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard try readMore() else { throw Failure(description: "connection closed after \(buffer.count) of \(count) bytes") }
        }
        let bytes = Array(buffer[..<count])
        buffer.removeFirst(count)
        return bytes
    }

    /// Reads one response. `forHead` skips the body (a response to HEAD).
    func readResponse(forHead: Bool = false) throws -> Response {
        var statusLine = try readLine()
        var parts = statusLine.split(separator: " ", maxSplits: 2)
        // Skip interim 1xx answers (100 Continue).
        while parts.count >= 2, let code = Int(parts[1]), code < 200 {
            while try !readLine().isEmpty {}
            statusLine = try readLine()
            parts = statusLine.split(separator: " ", maxSplits: 2)
        }
        guard parts.count >= 2, parts[0] == "HTTP/1.1", let status = Int(parts[1]) else {
            throw Failure(description: "bad status line '\(statusLine)'")
        }
        var response = Response(status: status, headers: [], body: [])
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw Failure(description: "bad header line '\(line)'") }
            response.headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        if forHead || status == 204 || status == 304 { return response }
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            while true {
                let sizeLine = try readLine()
                guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
                    throw Failure(description: "bad chunk size '\(sizeLine)'")
                }
                if size == 0 {
                    while try !readLine().isEmpty {}
                    break
                }
                let data = try readExactly(size)
                response.chunks.append((data, ContinuousClock.now))
                response.body += data
                guard try readLine().isEmpty else { throw Failure(description: "chunk not followed by CRLF") }
            }
        } else if let length = response.header("content-length").flatMap(Int.init) {
            response.body = try readExactly(length)
        } else {
            while try readMore() {}
            response.body = buffer
            buffer = []
        }
        return response
    }
}
