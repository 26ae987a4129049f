/// Every failure of the Redis client, with what happened, a message carrying context, and
/// where it was raised.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The server refused the TCP or unix-socket connection (or the address did not resolve).
        case connectionRefused
        /// Connecting (including AUTH and SELECT) took longer than the connect timeout.
        case connectTimeout
        /// No reply within the command timeout.
        case commandTimeout
        /// The server sent bytes that are not RESP, or a reply larger than the configured bounds.
        case protocolError
        /// The server answered with an error reply; `message` holds it.
        case serverError
        /// The connection closed while the command was in flight.
        case connectionClosed
        /// The connection is down and waits out its reconnect backoff.
        case connectionUnavailable
        /// AUTH was rejected.
        case authenticationFailed
        /// A Redis URL could not be parsed.
        case invalidURL
        /// A URL scheme this client does not speak (`rediss://`: hiredis 0.14 has no TLS).
        case unsupportedScheme
        /// Too many commands in flight on one connection.
        case tooManyInFlight
        /// The client was shut down.
        case shutdown
    }

    public let code: Code
    public let message: String
    public let file: String
    public let line: Int

    init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "RedisError.\(code.rawValue): \(message) (\(file):\(line))" }
}
