import Foundation
import NIOCore
import NIOHTTP1

/// A complete response as tests look at it.
struct TestHTTPResponse: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: ByteBuffer

    var text: String { String(buffer: body) }

    /// The body as a JSON object (throws when it is something else).
    func json() throws -> [String: Any] {
        try TestJSON.object(text)
    }
}

/// One piece of a streamed body with the time it reached the client.
struct TestBodyPart: Sendable {
    let bytes: ByteBuffer
    let arrivedAt: ContinuousClock.Instant
}

/// A streamed response read part by part; a body that broke off is recorded, not thrown, so a
/// test can look at what arrived before the break.
struct TestStreamedResponse: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let sentAt: ContinuousClock.Instant
    let headAt: ContinuousClock.Instant
    let parts: [TestBodyPart]
    /// Why the body ended early (`nil` when it completed).
    let bodyError: (any Error)?

    var text: String {
        parts.reduce(into: "") { $0 += String(buffer: $1.bytes) }
    }

    /// The `data:` payloads of the SSE events received, in order.
    var events: [String] { ServerSentEvents.dataPayloads(text) }
}

enum ServerSentEvents {
    /// `data:` payloads of complete events (each ended by a blank line); multi-line data joined by "\n".
    static func dataPayloads(_ text: String) -> [String] {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        var blocks = normalized.components(separatedBy: "\n\n")
        blocks.removeLast()  // after the last separator: an incomplete event or nothing
        return blocks.compactMap { block in
            let lines = block.split(separator: "\n").filter { $0.hasPrefix("data:") }
            guard !lines.isEmpty else { return nil }
            return lines.map { line in
                var value = line.dropFirst(5)
                if value.first == " " { value = value.dropFirst() }
                return String(value)
            }.joined(separator: "\n")
        }
    }
}

enum TestJSON {
    struct NotAnObject: Error, CustomStringConvertible {
        let text: String
        var description: String { "not a JSON object: \(text.prefix(500))" }
    }

    static func object(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw NotAnObject(text: text)
        }
        return object
    }

    /// `value` as compact JSON text (sorted keys, so equal values give equal text).
    static func text(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }
}

/// HTTP calls from tes/// HTTP calls from tests, each on a fresh connection of `TestHTTPConnection` (NIO, plain HTTP/1.1).
enum TestHTTP {
    struct BodyTooLarge: Error, CustomStringConvertible {
        let limit: Int
        var description: String { "the response body exceeds \(limit) bytes" }
    }

    /// Sends a request and collects the whole body (up to `maxBodyBytes`); a body that broke
    /// off throws.
    static func send(
        _ method: HTTPMethod = .GET,
        _ url: String,
        headers: [(String, String)] = [],
        body: String? = nil,
        timeout: Duration = .seconds(30),
        maxBodyBytes: Int = 16 << 20
    ) async throws -> TestHTTPResponse {
        let response = try await TestHTTPConnection.exchange(method, url, headers: headers, body: body, timeout: timeout)
        if let error = response.bodyError { throw error }
        var collected = ByteBuffer()
        for part in response.parts {
            var bytes = part.bytes
            collected.writeBuffer(&bytes)
            if collected.readableBytes > maxBodyBytes { throw BodyTooLarge(limit: maxBodyBytes) }
        }
        return TestHTTPResponse(status: response.status, headers: response.headers, body: collected)
    }

    /// Sends a request and reads the body part by part with arrival times. Failing before the
    /// head throws; failing in the body is recorded in `bodyError`.
    static func stream(
        _ method: HTTPMethod = .POST,
        _ url: String,
        headers: [(String, String)] = [],
        body: String? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> TestStreamedResponse {
        try await TestHTTPConnection.exchange(method, url, headers: headers, body: body, timeout: timeout)
    }
}
