import Foundation
import Testing

/// The streaming pass-through proxy, end to end: the real `reprise` binary in front of the real
/// mock upstream, driven over raw TCP so every byte can be checked.
@Suite(.serialized) struct PassThroughTests {
    static let chatBody = #"{"model":"deepseek-chat","messages":[{"role":"user","content":"hello pass-through"}]}"#

    static func post(_ path: String, body: String, headers: [String] = [], keepAlive: Bool = true) -> String {
        var request = "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        request += "Authorization: Bearer sk-e2e\r\nContent-Length: \(body.utf8.count)\r\n"
        for header in headers { request += header + "\r\n" }
        if !keepAlive { request += "Connection: close\r\n" }
        return request + "\r\n" + body
    }

    private func withProxy(
        yaml: String = "",
        mockArguments: [String] = [],
        _ body: (MockUpstream, RepriseProcess) async throws -> Void
    ) async throws {
        try await withMockAndReprise(yaml: yaml, mockArguments: mockArguments, body)
    }

    @Test func jsonCompletionPassesThroughByteIdentical() async throws {
        try await withProxy { mock, proxy in
            let viaProxy = try proxy.connect()
            try viaProxy.send(Self.post("/v1/chat/completions", body: Self.chatBody))
            let proxied = try viaProxy.readResponse()

            let direct = try RawHTTPConnection(port: mock.port)
            try direct.send(Self.post("/v1/chat/completions", body: Self.chatBody))
            let straight = try direct.readResponse()

            #expect(proxied.status == 200)
            #expect(proxied.body == straight.body)
            #expect(proxied.header("content-type") == straight.header("content-type"))
            #expect(proxied.header("x-cache") != nil)
            #expect(try await mock.stats().byPath["/v1/chat/completions"] == 2)
        }
    }

    /// Keep-alive upstream connections are pooled per event loop and reused, for answers and
    /// for error statuses alike, while requests arrive concurrently on several client
    /// connections (spread over the server's loops).
    @Test func upstreamConnectionsAreReused() async throws {
        try await withProxy(yaml: "server:\n  threads: 2\n") { mock, proxy in
            let clients = try (0 ..< 8).map { _ in try proxy.connect() }
            for round in 0 ..< 10 {
                // Every client sends before any reads: 8 requests are in flight at once.
                for (index, client) in clients.enumerated() {
                    let body = #"{"model":"deepseek-chat","messages":[{"role":"user","content":"reuse \#(round) \#(index)"}]}"#
                    try client.send(Self.post(round % 2 == 0 ? "/v1/chat/completions" : "/v1/no-such-route", body: body))
                }
                for client in clients {
                    #expect(try client.readResponse().status == (round % 2 == 0 ? 200 : 404))
                }
            }
            let stats = try await mock.stats()
            #expect(stats.requests == 80)
            // At most one upstream connection per request in flight, plus this stats request's.
            #expect(stats.connections <= clients.count + 1, "80 requests, 8 at a time, opened \(stats.connections) upstream connections")
        }
    }

    /// `upstream.max_connections_per_loop` bounds the pool: a request beyond it waits for a
    /// connection to come free, and is then answered on it.
    @Test func requestsBeyondThePoolLimitWaitForAConnection() async throws {
        let yaml = "server:\n  threads: 1\nupstream:\n  max_connections_per_loop: 2\n"
        try await withProxy(yaml: yaml) { mock, proxy in
            let clients = try (0 ..< 3).map { _ in try proxy.connect() }
            for (index, client) in clients.enumerated() {
                let body = #"{"model":"deepseek-chat","messages":[{"role":"user","content":"limit \#(index)"}]}"#
                try client.send(Self.post("/v1/chat/completions", body: body, headers: ["X-Mock-Latency-Ms: 500"]))
            }
            for client in clients {
                #expect(try client.readResponse().status == 200)
            }
            let stats = try await mock.stats()
            #expect(stats.requests == 3)
            #expect(stats.connections <= 3, "2 pooled connections, plus the one this stats request may open")
        }
    }

    /// A HEAD answer has no body on either side, and both connections stay usable.
    @Test func headRequestsKeepBothConnectionsUsable() async throws {
        try await withProxy { mock, proxy in
            let client = try proxy.connect()
            for _ in 0 ..< 3 {
                try client.send("HEAD /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
                let head = try client.readResponse(forHead: true)
                #expect(head.status == 405)
                #expect(head.body.isEmpty)
                try client.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try client.readResponse().status == 200)
            }
            let stats = try await mock.stats()
            #expect(stats.requests == 6)
            #expect(stats.connections <= 2, "one upstream connection, plus the one this stats request may open")
        }
    }

    /// An upstream answer without `Content-Length`, ended by closing the connection, reaches
    /// the client whole (re-framed), is stored, and the next request opens a new connection.
    @Test func closeDelimitedUpstreamAnswersArriveWholeAndAreStored() async throws {
        try await withProxy { mock, proxy in
            let direct = try RawHTTPConnection(port: mock.port)
            try direct.send(Self.post("/v1/chat/completions", body: Self.chatBody))
            let expected = try direct.readResponse().body
            let client = try proxy.connect()
            try client.send(Self.post("/v1/chat/completions", body: Self.chatBody, headers: ["X-Mock-Close-Delimited: 1"]))
            let first = try client.readResponse()
            #expect(first.status == 200)
            #expect(first.header("x-cache") == "MISS")
            #expect(first.body == expected)
            try client.send(Self.post("/v1/chat/completions", body: Self.chatBody, headers: ["X-Mock-Close-Delimited: 1"]))
            let second = try client.readResponse()
            #expect(second.header("x-cache") == "HIT")
            #expect(second.body == expected)
            let unique = #"{"model":"deepseek-chat","messages":[{"role":"user","content":"close-delimited 2"}]}"#
            try client.send(Self.post("/v1/chat/completions", body: unique, headers: ["X-Mock-Close-Delimited: 1"]))
            #expect(try client.readResponse().status == 200)
            #expect(try await mock.stats().byPath["/v1/chat/completions"] == 3)
        }
    }

    @Test func streamedCompletionArrivesEventByEventBeforeTheUpstreamFinished() async throws {
        try await withProxy { mock, proxy in
            let body = #"{"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"stream please"}]}"#
            let streamHeaders = ["X-Mock-Chunks: 6", "X-Mock-Chunk-Delay-Ms: 250"]
            let connection = try proxy.connect()
            let sent = ContinuousClock.now
            try connection.send(Self.post("/v1/chat/completions", body: body, headers: streamHeaders))
            let proxied = try connection.readResponse()

            let direct = try RawHTTPConnection(port: mock.port)
            try direct.send(Self.post("/v1/chat/completions", body: body, headers: streamHeaders))
            let straight = try direct.readResponse()

            #expect(proxied.status == 200)
            #expect(proxied.header("content-type")?.hasPrefix("text/event-stream") == true)
            // The same SSE events, in the same order.
            #expect(proxied.text == straight.text)
            #expect(proxied.text.hasSuffix("data: [DONE]\n\n"))
            // The first event reached the client while the upstream was still streaming:
            // the stream takes >= 6 x 250 ms, the first chunk must come well before its end.
            let first = try #require(proxied.chunks.first).receivedAt
            let last = try #require(proxied.chunks.last).receivedAt
            #expect(last - first >= .milliseconds(1000), "chunks were buffered: first at \(first - sent), last at \(last - sent)")
            #expect(proxied.chunks.count >= 6)
        }
    }

    @Test(arguments: [400, 401, 404, 429, 500, 503])
    func upstreamErrorsPassThroughUnchanged(status: Int) async throws {
        try await withProxy { mock, proxy in
            let headers = ["X-Mock-Status: \(status)", "X-Mock-Retry-After: 7"]
            let connection = try proxy.connect()
            try connection.send(Self.post("/v1/chat/completions", body: Self.chatBody, headers: headers))
            let proxied = try connection.readResponse()
            let direct = try RawHTTPConnection(port: mock.port)
            try direct.send(Self.post("/v1/chat/completions", body: Self.chatBody, headers: headers))
            let straight = try direct.readResponse()

            #expect(proxied.status == status)
            #expect(proxied.body == straight.body)
            if status == 429 {
                #expect(proxied.header("retry-after") == "7")
            }
        }
    }

    @Test func upstreamDownGives502InOpenAIShape() async throws {
        let port = try unusedPort()
        // A short connect timeout: the client retries refused connections until it expires.
        let proxy = try await RepriseProcess.start(upstream: "http://127.0.0.1:\(port)", yaml: "upstream:\n  connect_timeout: 1s\n")
        let connection = try proxy.connect()
        try connection.send(Self.post("/v1/chat/completions", body: Self.chatBody))
        let response = try connection.readResponse()
        #expect(response.status == 502)
        let error = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])["error"] as? [String: Any]
        #expect(error?["type"] as? String == "api_error")
        #expect(error?["code"] as? String == "upstream_unreachable")
        #expect((error?["message"] as? String)?.isEmpty == false)
        await proxy.stop()
    }

    @Test func upstreamSilenceGives504() async throws {
        try await withProxy(yaml: "upstream:\n  read_timeout: 500ms\n") { _, proxy in
            let connection = try proxy.connect()
            try connection.send(Self.post("/v1/chat/completions", body: Self.chatBody, headers: ["X-Mock-Latency-Ms: 5000"]))
            let response = try connection.readResponse()
            #expect(response.status == 504)
            #expect(response.text.contains("\"code\":\"upstream_timeout\""))
        }
    }

    @Test func streamCutByTheUpstreamIsCutForTheClient() async throws {
        try await withProxy { _, proxy in
            let body = #"{"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"cut me"}]}"#
            let connection = try proxy.connect()
            try connection.send(Self.post("/v1/chat/completions", body: body, headers: ["X-Mock-Cut-After: 2"]))
            // A truncated chunked body: the reader hits the closed connection before the last chunk.
            #expect(throws: RawHTTPConnection.Failure.self) { try connection.readResponse() }
        }
    }

    @Test func oversizedBodyGets413() async throws {
        try await withProxy(yaml: "server:\n  max_body_bytes: 1KiB\n") { mock, proxy in
            let big = #"{"model":"m","pad":""# + String(repeating: "x", count: 2048) + #""}"#
            let declared = try proxy.connect()
            try declared.send(Self.post("/v1/chat/completions", body: big))
            let response = try declared.readResponse()
            #expect(response.status == 413)
            #expect(response.text.contains("\"code\":\"request_too_large\""))
            #expect(response.header("connection") == "close")

            // Without a declared length the limit applies while the body arrives.
            let chunked = try proxy.connect()
            var request = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            for _ in 0..<4 { request += "200\r\n" + String(repeating: "y", count: 512) + "\r\n" }
            request += "0\r\n\r\n"
            try chunked.send(request)
            #expect(try chunked.readResponse().status == 413)
            #expect(try await mock.stats().requests == 0)
        }
    }

    @Test func oversizedHeadersGet431() async throws {
        try await withProxy(yaml: "server:\n  max_header_bytes: 4KiB\n") { _, proxy in
            let connection = try proxy.connect()
            try connection.send("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "h", count: 8000))\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.status == 431)
            #expect(response.text.contains("request_header_fields_too_large"))
        }
    }

    @Test func malformedRequestGets400AndClose() async throws {
        try await withProxy { _, proxy in
            let connection = try proxy.connect()
            try connection.send("THIS IS NOT HTTP\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.status == 400)
            #expect(response.text.contains("\"type\":\"invalid_request_error\""))
            #expect(connection.waitForClose())
        }
    }

    @Test func slowRequestGets408() async throws {
        try await withProxy(yaml: "server:\n  request_timeout: 500ms\n") { _, proxy in
            let connection = try proxy.connect()
            try connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\"")
            let response = try connection.readResponse()
            #expect(response.status == 408)
            #expect(response.text.contains("request_timeout"))
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        try await withProxy(yaml: "server:\n  idle_timeout: 300ms\n") { _, proxy in
            let connection = try proxy.connect(timeout: 10)
            try connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.readResponse().status == 200)
            #expect(connection.waitForClose())
        }
    }

    /// The connection's one deadline moves with every request: a connection in use is never
    /// closed as idle, and a request timeout shorter than the idle timeout fires on time.
    @Test func deadlinesFollowTheConnectionsPhases() async throws {
        try await withProxy(yaml: "server:\n  idle_timeout: 600ms\n  request_timeout: 10s\n") { _, proxy in
            let busy = try proxy.connect(timeout: 10)
            for _ in 0 ..< 10 {  // 3 s in all, 5 idle timeouts, one connection
                try busy.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try busy.readResponse().status == 200)
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(busy.waitForClose())
        }
        try await withProxy(yaml: "server:\n  idle_timeout: 20s\n  request_timeout: 400ms\n") { _, proxy in
            let connection = try proxy.connect(timeout: 15)
            try connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.readResponse().status == 200)
            try await Task.sleep(for: .milliseconds(700))
            let started = ContinuousClock.now
            try connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            #expect(try connection.readResponse().status == 408)
            // Well before the idle timeout: the wake-up was not left at the idle deadline.
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withProxy { _, proxy in
            let first = #"{"model":"deepseek-chat","messages":[{"role":"user","content":"one"}]}"#
            let second = #"{"model":"deepseek-chat","messages":[{"role":"user","content":"two"}]}"#
            let connection = try proxy.connect()
            // Three requests in one write: slow first, then fast ones that must wait their turn.
            try connection.send(
                Self.post("/v1/chat/completions", body: first, headers: ["X-Mock-Latency-Ms: 300"])
                    + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                    + Self.post("/v1/chat/completions", body: second)
            )
            let answers = try (0..<3).map { _ in try connection.readResponse() }
            #expect(answers.map(\.status) == [200, 200, 200])
            #expect(answers[0].text.contains("chat.completion"))
            #expect(answers[1].text == #"{"status":"ok"}"#)
            #expect(answers[2].text.contains("chat.completion"))
            #expect(answers[0].body != answers[2].body)
        }
    }

    @Test func headersAreForwardedLikeAProxyShould() async throws {
        try await withProxy { mock, proxy in
            let connection = try proxy.connect()
            try connection.send(Self.post(
                "/v1/chat/completions?trace=1", body: Self.chatBody,
                headers: ["X-Custom: kept", "Keep-Alive: timeout=5", "Connection: keep-alive, X-Drop-Me", "X-Drop-Me: secret", "TE: trailers"]
            ))
            #expect(try connection.readResponse().status == 200)
            let seen = try #require(try await mock.lastRequest())
            #expect(seen.path.hasPrefix("/v1/chat/completions"))
            #expect(seen.headers["authorization"] == "Bearer sk-e2e")
            #expect(seen.headers["x-custom"] == "kept")
            #expect(seen.headers["host"] == "127.0.0.1:\(mock.port)")
            #expect(seen.headers["keep-alive"] == nil)
            #expect(seen.headers["x-drop-me"] == nil)
            #expect(seen.headers["te"] == nil)
            #expect(seen.bodyBytes == Self.chatBody.utf8.count)
        }
    }

    @Test func healthAndReadiness() async throws {
        try await withProxy { mock, proxy in
            let connection = try proxy.connect()
            try connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.readResponse().status == 200)
            let ready = try connection.readResponse()
            #expect(ready.status == 200)
            #expect(ready.text.contains("ready"))
            #expect(try await mock.stats().requests == 0)
        }
    }

    @Test func sigtermLetsAnInFlightStreamFinish() async throws {
        try await withProxy { _, proxy in
            let body = #"{"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"drain"}]}"#
            let connection = try proxy.connect()
            try connection.send(Self.post("/v1/chat/completions", body: body, headers: ["X-Mock-Chunks: 8", "X-Mock-Chunk-Delay-Ms: 200"]))
            try await Task.sleep(for: .milliseconds(400))
            proxy.process.kill(signal: SIGTERM)
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.text.hasSuffix("data: [DONE]\n\n"))
            #expect(response.header("connection") == nil || response.header("connection") == "close")
            #expect(try await proxy.process.waitForExit(timeout: .seconds(30)) == 0)
            // New connections are refused once it stopped.
            #expect(throws: RawHTTPConnection.Failure.self) { try proxy.connect() }
        }
    }
}
