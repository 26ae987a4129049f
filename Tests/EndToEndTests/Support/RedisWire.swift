import Foundation

/// Binary-safe Redis commands over RESP on a socket of the test's own, for values `redis-cli`
/// cannot pass as arguments (arbitrary bytes, CR/LF, NUL). Never through the code under test.
final class RedisWire {
    struct Failure: Error, CustomStringConvertible { let description: String }

    enum Reply: Equatable {
        case simple(String)
        case error(String)
        case integer(Int)
        case bulk([UInt8]?)
        case array([Reply]?)
    }

    private let socket: BlockingSocket
    private var buffer: [UInt8] = []
    private let timeout: Duration

    init(port: Int, timeout: Duration = .seconds(10)) throws {
        socket = try BlockingSocket(port: port)
        self.timeout = timeout
    }

    /// Sends one command (each argument a bulk string) and reads its reply.
    func command(_ arguments: [[UInt8]]) throws -> Reply {
        var request = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            request += Array("$\(argument.count)\r\n".utf8) + argument + [13, 10]
        }
        guard socket.sendIgnoringClose(request) == request.count else { throw Failure(description: "send to redis failed") }
        let deadline = ContinuousClock.now + timeout
        return try readReply(deadline: deadline)
    }

    func command(_ arguments: String...) throws -> Reply {
        try command(arguments.map { Array($0.utf8) })
    }

    func get(_ key: String) throws -> [UInt8]? {
        guard case .bulk(let value) = try command("GET", key) else { throw Failure(description: "GET \(key): not a bulk reply") }
        return value
    }

    /// `SET key value KEEPTTL`: replaces the value, the expiry the proxy chose stays.
    func set(_ key: String, _ value: [UInt8]) throws {
        let reply = try command([Array("SET".utf8), Array(key.utf8), value, Array("KEEPTTL".utf8)])
        guard reply == .simple("OK") else { throw Failure(description: "SET \(key): \(reply)") }
    }

    /// Every key matching `pattern`, through SCAN (cursor until 0).
    func scan(_ pattern: String) throws -> [String] {
        var cursor = "0"
        var keys: [String] = []
        repeat {
            guard case .array(let parts?) = try command("SCAN", cursor, "MATCH", pattern, "COUNT", "1000"), parts.count == 2,
                  case .bulk(let next?) = parts[0], case .array(let found?) = parts[1] else {
                throw Failure(description: "SCAN: unexpected reply")
            }
            cursor = String(decoding: next, as: UTF8.self)
            for case .bulk(let key?) in found { keys.append(String(decoding: key, as: UTF8.self)) }
        } while cursor != "0"
        return keys
    }

    private func readLine(deadline: ContinuousClock.Instant) throws -> String {
        while true {
            if let end = ParsedHTTPResponse.find([13, 10], in: buffer, from: 0) {
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                return line
            }
            try fill(deadline: deadline)
        }
    }

    private func fill(deadline: ContinuousClock.Instant) throws {
        switch socket.read(into: &buffer, deadline: deadline) {
        case .data: return
        case .closed: throw Failure(description: "redis closed the connection")
        case .timedOut: throw Failure(description: "redis did not answer in time")
        }
    }

    private func readReply(deadline: ContinuousClock.Instant) throws -> Reply {
        let line = try readLine(deadline: deadline)
        guard let kind = line.first else { throw Failure(description: "empty reply line") }
        let rest = String(line.dropFirst())
        switch kind {
        case "+": return .simple(rest)
        case "-": return .error(rest)
        case ":": return .integer(Int(rest) ?? 0)
        case "$":
            guard let length = Int(rest) else { throw Failure(description: "bad bulk length \(rest)") }
            if length < 0 { return .bulk(nil) }
            while buffer.count < length + 2 { try fill(deadline: deadline) }
            let value = Array(buffer[..<length])
            buffer.removeFirst(length + 2)
            return .bulk(value)
        case "*":
            guard let count = Int(rest) else { throw Failure(description: "bad array length \(rest)") }
            if count < 0 { return .array(nil) }
            return .array(try (0..<count).map { _ in try readReply(deadline: deadline) })
        default:
            throw Failure(description: "unknown reply type in \(line)")
        }
    }
}
