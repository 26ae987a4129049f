import Foundation
import Testing

/// HTTP/1.0 has no chunked encoding: whatever Reprise answers such a client (a live stream, a
/// replayed stream, JSON, its own errors) is delimited by Content-Length or by the close.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HostileHTTP10ClientTests {
    @Test(arguments: [false, true])
    func streamedAnswerToAnHTTP10ClientIsNeverChunked(keepAlive: Bool) async throws {
        try await withMockAndReprise { _, proxy in
            let question = Chat.freshQuestion("http10")
            let body = Array(Chat.body(question, stream: true).utf8)
            let request = HostileRequest.bytes(
                version: "HTTP/1.0",
                credential: .other("Authorization: Bearer sk-http10"),
                lines: keepAlive ? [HostileRequest.line("Connection: keep-alive")] : [],
                body: body,
                close: false
            )
            // A miss (the upstream's stream relayed live), then a hit (the stored stream replayed).
            for expectedCache in ["MISS", "HIT"] {
                let outcome = try RawHTTPExchange.send(request, port: proxy.port, timeout: .seconds(15))
                guard case .answered(let response, _) = outcome else {
                    Issue.record("\(expectedCache): \(outcome)")
                    continue
                }
                #expect(response.status == 200)
                #expect(response.header("x-cache") == expectedCache)
                #expect(!response.isChunked, "\(expectedCache): an HTTP/1.0 client got chunked encoding:\n\(response.head)")
                #expect(response.text.contains("data: [DONE]"), "\(expectedCache): \(response.text.suffix(200))")
            }
        }
    }

    @Test func errorAnswerToAnHTTP10ClientIsNeverChunked() async throws {
        try await withMockAndReprise { _, proxy in
            let request = HostileRequest.bytes(
                version: "HTTP/1.0",
                lines: [HostileRequest.line("X-Mock-Status: 400")],
                body: Array(Chat.body(Chat.freshQuestion("http10-error"), stream: true).utf8),
                close: false
            )
            let outcome = try RawHTTPExchange.send(request, port: proxy.port)
            guard case .answered(let response, _) = outcome else {
                Issue.record("\(outcome)")
                return
            }
            #expect(response.status == 400)
            #expect(!response.isChunked)
            #expect(OpenAIErrorDocument(response.text) != nil)
        }
    }
}
