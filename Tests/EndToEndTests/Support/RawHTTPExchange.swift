import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One hand-written request on a fresh TCP connection, for requests no HTTP client would send
/// (malformed heads, conflicting framing, binary garbage). Unlike `RawHTTPConnection` it never
/// throws on what the server does: a server that closes early, resets, answers HTTP/1.0 or
/// answers nothing is an outcome to look at, not a test error.
enum RawHTTPExchange {
    enum Outcome: CustomStringConvertible {
        /// A complete first response; `closedAfter` says whether the server closed the
        /// connection after it (only looked at when asked to wait for the close).
        case answered(ParsedHTTPResponse, closedAfter: Bool)
        /// The server closed (or reset) the connection before a complete response.
        case closedWithoutAnswer(received: [UInt8])
        /// Neither a complete response nor a close before the deadline.
        case timedOut(received: [UInt8])

        var description: String {
            switch self {
            case .answered(let response, let closed):
                "answered \(response.status) (\(closed ? "closed after" : "kept open")): \(response.head.prefix(300)) \(response.text.prefix(400))"
            case .closedWithoutAnswer(let received):
                "closed without a complete answer after \(received.count) bytes: \(String(decoding: received.prefix(300), as: UTF8.self))"
            case .timedOut(let received):
                "timed out with \(received.count) bytes: \(String(decoding: received.prefix(300), as: UTF8.self))"
            }
        }

        /// Every byte received, for searching (e.g. for another tenant's marker).
        var receivedText: String {
            switch self {
            case .answered(let response, _): response.head + "\r\n\r\n" + response.text
            case .closedWithoutAnswer(let received), .timedOut(let received): String(decoding: received, as: UTF8.self)
            }
        }
    }

    /// Sends `bytes` (a send the server cuts short is not an error), then reads until the first
    /// response is complete, the server closes, or `timeout` passes. With `waitForClose`, keeps
    /// reading after a complete response for up to `closeTimeout` to see whether the server
    /// ends the connection.
    static func send(
        _ bytes: [UInt8],
        port: Int,
        timeout: Duration = .seconds(10),
        waitForClose: Bool = false,
        closeTimeout: Duration = .seconds(5)
    ) throws -> Outcome {
        let socket = try BlockingSocket(port: port)
        socket.sendIgnoringClose(bytes)
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while true {
            switch ParsedHTTPResponse.parse(received, peerClosed: false) {
            case .complete(let response, _):
                guard waitForClose else { return .answered(response, closedAfter: false) }
                let closed = socket.readUntilClose(into: &received, deadline: .now + closeTimeout)
                return .answered(response, closedAfter: closed)
            case .malformed:
                return .closedWithoutAnswer(received: received)
            case .incomplete:
                break
            }
            switch socket.read(into: &received, deadline: deadline) {
            case .data:
                continue
            case .closed:
                if case .complete(let response, _) = ParsedHTTPResponse.parse(received, peerClosed: true) {
                    return .answered(response, closedAfter: true)
                }
                return .closedWithoutAnswer(received: received)
            case .timedOut:
                return .timedOut(received: received)
            }
        }
    }
}

/// A blocking client socket with deadlines on every read and write.
final class BlockingSocket {
    enum ReadResult { case data, closed, timedOut }

    let fd: Int32

    init(port: Int) throws {
        fd = try LoopbackSocket.connect(port: port)
        setSendTimeout(.seconds(5))
    }

    deinit { close(fd) }

    /// Sends as much of `bytes` as the peer takes; stops quietly when it closes or stalls.
    /// Returns the number of bytes sent.
    @discardableResult
    func sendIgnoringClose(_ bytes: [UInt8]) -> Int {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { break }
            offset += sent
        }
        return offset
    }

    /// Waits for bytes until `deadline`; a reset counts as a close.
    func read(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) -> ReadResult {
        let remaining = deadline - .now
        guard remaining > .zero else { return .timedOut }
        let (seconds, attoseconds) = remaining.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        if ready == 0 { return .timedOut }
        if ready < 0 { return errno == EINTR ? .data : .closed }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { return count < 0 && errno == EINTR ? .data : .closed }
        buffer.append(contentsOf: chunk[0..<count])
        return .data
    }

    /// Reads (and keeps) everything until the peer closes; false when `deadline` came first.
    func readUntilClose(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) -> Bool {
        while true {
            switch read(into: &buffer, deadline: deadline) {
            case .data: continue
            case .closed: return true
            case .timedOut: return false
            }
        }
    }

    /// How long one `send` may block on a full socket buffer (5 s by default).
    func setSendTimeout(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Half-closes: the peer reads EOF after what was sent.
    func shutdownWriting() {
        shutdown(fd, Int32(SHUT_WR))
    }
}
