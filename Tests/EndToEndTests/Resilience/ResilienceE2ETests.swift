import Foundation
import Testing

/// Resilient upstream calls end to end: the real `reprise` in front of the real mock upstream,
/// whose fault injection (`X-Mock-*` headers, forwarded by Reprise) makes the upstream fail,
/// stall or hang, and whose counters prove how often it was called and when Reprise hung up.
///
/// The tests live in extensions by theme (retry, breaker, timeouts, coalescing, drain); this
/// file holds the suite and the helpers they share. Durations in the configurations are short
/// so the suite stays quick; time bounds in assertions are loose (a loaded 2-core machine).
@Suite(.serialized) struct ResilienceE2ETests {
    /// Backoff short enough that retries do not slow the suite down.
    static let fastRetry = "upstream:\n  retry:\n    base_delay: 20ms\n    max_delay: 100ms\n"

    /// One running proxy with its primary upstream (and a fallback upstream when asked for).
    struct Bed {
        let mock: MockUpstream
        let proxy: RepriseProcess
        let fallback: MockUpstream?
    }

    /// Starts the mock(s) and Reprise with `yaml`, runs `body`, and stops everything, also when
    /// `body` throws (`withMocksAndReprise`: a fallback mock with `withFallback`).
    func withProxy(yaml: String, withFallback: Bool = false, _ body: (Bed) async throws -> Void) async throws {
        try await withMocksAndReprise(yaml: yaml, withFallback: withFallback) { mock, proxy, fallback in
            try await body(Bed(mock: mock, proxy: proxy, fallback: fallback))
        }
    }

    /// A chat request body with a question nobody asked before (so no cache or flight answers it).
    static func chat(_ label: String, stream: Bool = false) -> String {
        chat(question: "\(label) \(UUID().uuidString)", stream: stream)
    }

    /// A chat request body for exactly `question`.
    static func chat(question: String, stream: Bool = false) -> String {
        #"{"model":"deepseek-chat","stream":\#(stream),"messages":[{"role":"user","content":"\#(question)"}]}"#
    }

    /// One POST over a fresh connection, read completely (blocking; sequential tests only).
    func post(
        _ proxy: RepriseProcess, _ body: String, headers: [String] = [], path: String = "/v1/chat/completions", timeout: Double = 30
    ) throws -> RawHTTPConnection.Response {
        let connection = try proxy.connect(timeout: timeout)
        try connection.send(Self.requestText(body, headers: headers, path: path))
        return try connection.readResponse()
    }

    static func requestText(_ body: String, headers: [String], path: String = "/v1/chat/completions") -> String {
        var request = "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer sk-resilience\r\n"
        for header in headers { request += header + "\r\n" }
        return request + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    /// The `error` object of an OpenAI-shaped error body.
    static func errorObject(_ text: String) throws -> [String: Any] {
        try #require(try TestJSON.object(text)["error"] as? [String: Any])
    }

    /// Concatenated `delta.content` of a streamed chat answer's events.
    static func streamedContent(_ events: [String]) throws -> String {
        var content = ""
        for event in events where event != "[DONE]" {
            let chunk = try TestJSON.object(event)
            let delta = (chunk["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
            content += delta?["content"] as? String ?? ""
        }
        return content
    }

    /// `choices[0].message.content` of a JSON chat answer.
    static func messageContent(_ text: String) throws -> String {
        let object = try TestJSON.object(text)
        let message = (object["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
        return try #require(message?["content"] as? String)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
