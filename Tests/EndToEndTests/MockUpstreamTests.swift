import Foundation
import NIOCore
import Testing

/// The mock upstream as every end-to-end test relies on it: shapes, determinism, streams, tool
/// calls, fault injection and its own counters, all through real HTTP against the built binary.
@Suite("reprise-mock-upstream", .timeLimit(.minutes(5)))
struct MockUpstreamTests {
    static let chatBody = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What is a cache?"}]}"#

    static func streamBody(includeUsage: Bool) -> String {
        #"{"model":"deepseek-chat","stream":true,"#
            + (includeUsage ? #""stream_options":{"include_usage":true},"# : "")
            + #""messages":[{"role":"user","content":"Stream please"}]}"#
    }

    static let toolsBody =
        #"{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}],"#
        + #""tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","#
        + #""properties":{"city":{"type":"string"},"days":{"type":"integer"}}}}},"#
        + #"{"type":"function","function":{"name":"other_tool"}}]"#

    @Test func chatAnswerIsShapedLikeOpenAIAndDeterministic() async throws {
        try await withMockUpstream { mock in
            let first = try await TestHTTP.send(.POST, mock.url("/v1/chat/completions"), body: Self.chatBody)
            let second = try await TestHTTP.send(.POST, mock.url("/chat/completions"), body: Self.chatBody)
            let other = try await TestHTTP.send(
                .POST,
                mock.url("/v1/chat/completions"),
                body: Self.chatBody.replacingOccurrences(of: "cache?", with: "proxy?")
            )
            #expect(first.status == 200)
            #expect(first.headers["content-type"].first == "application/json")
            #expect(first.text == second.text, "same body, same bytes (both paths)")
            #expect(first.text != other.text, "different body, different answer")

            let json = try first.json()
            #expect((json["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            #expect(json["object"] as? String == "chat.completion")
            #expect(json["created"] is Int)
            #expect(json["model"] as? String == "gpt-4o-mini")
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            #expect(choice["finish_reason"] as? String == "stop")
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            #expect(((message["content"] as? String) ?? "").isEmpty == false)
            let usage = try #require(json["usage"] as? [String: Int])
            let prompt = try #require(usage["prompt_tokens"])
            let completion = try #require(usage["completion_tokens"])
            #expect(prompt > 0 && completion > 0)
            #expect(usage["total_tokens"] == prompt + completion)
        }
    }

    @Test func completionsEmbeddingsAndModels() async throws {
        try await withMockUpstream { mock in
            let completion = try await TestHTTP.send(
                .POST, mock.url("/v1/completions"), body: #"{"model":"gpt-3.5-turbo-instruct","prompt":"Say hi"}"#)
            let completionJSON = try completion.json()
            #expect(completionJSON["object"] as? String == "text_completion")
            let text = (completionJSON["choices"] as? [[String: Any]])?.first?["text"] as? String
            #expect(text?.isEmpty == false)

            let embeddings = try await TestHTTP.send(
                .POST, mock.url("/embeddings"), body: #"{"model":"text-embedding-3-small","input":["a","b"],"dimensions":5}"#)
            let embeddingsJSON = try embeddings.json()
            #expect(embeddingsJSON["object"] as? String == "list")
            let data = try #require(embeddingsJSON["data"] as? [[String: Any]])
            #expect(data.count == 2)
            #expect((data.first?["embedding"] as? [Double])?.count == 5)

            let models = try await TestHTTP.send(.GET, mock.url("/v1/models"))
            #expect(models.status == 200)
            #expect((try models.json()["data"] as? [Any])?.isEmpty == false)
        }
    }

    @Test func invalidRequestsAndUnknownPathsGetOpenAIErrors() async throws {
        try await withMockUpstream { mock in
            let cases: [(path: String, body: String?, status: Int, code: String)] = [
                ("/v1/chat/completions", #"{"model": "x", "messages": ["#, 400, "invalid_json"),
                ("/v1/chat/completions", #"{"messages":[]}"#, 400, "missing_required_parameter"),
                ("/v1/nowhere", "{}", 404, "unknown_url"),
            ]
            for item in cases {
                let response = try await TestHTTP.send(.POST, mock.url(item.path), body: item.body)
                #expect(response.status == item.status, "\(item.path) \(item.body ?? "")")
                let error = try #require(try response.json()["error"] as? [String: Any])
                #expect(error["type"] as? String == "invalid_request_error")
                #expect(error["code"] as? String == item.code)
                #expect((error["message"] as? String)?.isEmpty == false)
            }
        }
    }

    @Test(arguments: [false, true])
    func streamEndsWithDoneAndCarriesUsageWhenAsked(includeUsage: Bool) async throws {
        try await withMockUpstream(arguments: ["--chunks", "5"]) { mock in
            let response = try await TestHTTP.stream(
                .POST, mock.url("/v1/chat/completions"), body: Self.streamBody(includeUsage: includeUsage))
            #expect(response.status == 200)
            #expect(response.bodyError == nil)
            #expect(response.headers["content-type"].first?.hasPrefix("text/event-stream") == true)
            #expect(response.headers["transfer-encoding"].first == "chunked")
            let events = response.events
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map(TestJSON.object)
            #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            #expect(Set(chunks.compactMap { $0["id"] as? String }).count == 1, "one id for all chunks")

            let deltas = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
            #expect((deltas.first?["delta"] as? [String: Any])?["role"] as? String == "assistant")
            let content = deltas.compactMap { ($0["delta"] as? [String: Any])?["content"] as? String }
            #expect(content.filter { !$0.isEmpty }.count == 5, "--chunks 5 content pieces")
            #expect(deltas.last?["finish_reason"] as? String == "stop")

            let usageChunk = chunks.last { ($0["usage"] as? [String: Any]) != nil }
            if includeUsage {
                let usageChunk = try #require(usageChunk)
                #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
                #expect(chunks.last.map { TestJSON.objectIsEqual($0, usageChunk) } == true, "usage comes last")
            } else {
                #expect(usageChunk == nil)
            }

            let again = try await TestHTTP.stream(
                .POST, mock.url("/v1/chat/completions"), body: Self.streamBody(includeUsage: includeUsage))
            #expect(again.text == response.text, "streams are deterministic too")
        }
    }

    @Test func completionsStream() async throws {
        try await withMockUpstream { mock in
            let response = try await TestHTTP.stream(
                .POST, mock.url("/v1/completions"), headers: [("X-Mock-Chunks", "3")],
                body: #"{"model":"m","prompt":"p","stream":true}"#)
            let events = response.events
            #expect(events.last == "[DONE]")
            let chunks = try events.dropLast().map(TestJSON.object)
            #expect(chunks.count == 4, "3 text pieces and the finishing chunk")
            #expect(chunks.allSatisfy { $0["object"] as? String == "text_completion" })
            let last = (chunks.last?["choices"] as? [[String: Any]])?.first
            #expect(last?["finish_reason"] as? String == "stop")
        }
    }

    @Test func toolCallAsJSONAndStreamed() async throws {
        try await withMockUpstream { mock in
            let response = try await TestHTTP.send(.POST, mock.url("/v1/chat/completions"), body: Self.toolsBody + "}")
            let choice = try #require((try response.json()["choices"] as? [[String: Any]])?.first)
            #expect(choice["finish_reason"] as? String == "tool_calls")
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["content"] is NSNull)
            let call = try #require((message["tool_calls"] as? [[String: Any]])?.first)
            #expect((call["id"] as? String)?.isEmpty == false)
            #expect(call["type"] as? String == "function")
            let function = try #require(call["function"] as? [String: Any])
            #expect(function["name"] as? String == "get_weather", "the first tool is called")
            let arguments = try TestJSON.object(try #require(function["arguments"] as? String))
            #expect(arguments["city"] is String)
            #expect(arguments["days"] is Int)

            let streamed = try await TestHTTP.stream(
                .POST, mock.url("/v1/chat/completions"), headers: [("X-Mock-Chunks", "4")],
                body: Self.toolsBody + #","stream":true}"#)
            let events = streamed.events
            #expect(events.last == "[DONE]")
            let deltas = try events.dropLast().map(TestJSON.object).compactMap {
                ($0["choices"] as? [[String: Any]])?.first
            }
            let calls = deltas.compactMap { (($0["delta"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first }
            let opening = try #require(calls.first)
            #expect(opening["index"] as? Int == 0)
            #expect((opening["id"] as? String)?.hasPrefix("call_") == true)
            #expect(opening["type"] as? String == "function")
            #expect((opening["function"] as? [String: Any])?["name"] as? String == "get_weather")
            #expect((opening["function"] as? [String: Any])?["arguments"] as? String == "")
            let fragments = calls.dropFirst().compactMap { ($0["function"] as? [String: Any])?["arguments"] as? String }
            #expect(fragments.count == 4)
            let assembled = try TestJSON.object(fragments.joined())
            #expect(assembled["city"] is String)
            #expect(deltas.last?["finish_reason"] as? String == "tool_calls")
        }
    }

    @Test func latencyAndChunkDelayAreInjected() async throws {
        try await withMockUpstream { mock in
            let started = ContinuousClock.now
            let response = try await TestHTTP.send(
                .POST, mock.url("/v1/chat/completions"), headers: [("X-Mock-Latency-Ms", "300")], body: Self.chatBody)
            #expect(response.status == 200)
            #expect(ContinuousClock.now - started >= .milliseconds(300))

            let streamed = try await TestHTTP.stream(
                .POST, mock.url("/v1/chat/completions"),
                headers: [("X-Mock-Chunk-Delay-Ms", "100"), ("X-Mock-Chunks", "3")],
                body: Self.streamBody(includeUsage: false))
            // 6 events (role, 3 pieces, finish, [DONE]) with 100 ms between: at least 500 ms of stream.
            #expect(streamed.events.count == 6)
            let first = try #require(streamed.parts.first?.arrivedAt)
            let last = try #require(streamed.parts.last?.arrivedAt)
            #expect(last - first >= .milliseconds(450))
            #expect(streamed.parts.count >= 2, "events are flushed as they are produced")
        }
    }

    @Test func injectedStatus429CarriesRetryAfter() async throws {
        try await withMockUpstream { mock in
            let defaulted = try await TestHTTP.send(
                .POST, mock.url("/v1/chat/completions"), headers: [("X-Mock-Status", "429")], body: Self.chatBody)
            #expect(defaulted.status == 429)
            #expect(defaulted.headers["retry-after"].first == "1")
            #expect((try defaulted.json()["error"] as? [String: Any])?["code"] as? String == "rate_limit_exceeded")

            let explicit = try await TestHTTP.send(
                .POST, mock.url("/v1/chat/completions"),
                headers: [("X-Mock-Status", "429"), ("X-Mock-Retry-After", "7")], body: Self.chatBody)
            #expect(explicit.headers["retry-after"].first == "7")

            let unavailable = try await TestHTTP.send(
                .POST, mock.url("/v1/chat/completions"), headers: [("X-Mock-Status", "503")], body: Self.chatBody)
            #expect(unavailable.status == 503)
            #expect((try unavailable.json()["error"] as? [String: Any])?["type"] as? String == "server_error")
        }
    }

    @Test func failTimesScenarioFailsThenSucceeds() async throws {
        try await withMockUpstream { mock in
            func call(_ scenario: String) async throws -> Int {
                try await TestHTTP.send(
                    .POST, mock.url("/v1/chat/completions"),
                    headers: [("X-Mock-Fail-Times", "2"), ("X-Mock-Scenario", scenario), ("X-Mock-Status", "503")],
                    body: Self.chatBody
                ).status
            }
            #expect(try await call("retry-a") == 503)
            #expect(try await call("retry-b") == 503, "scenarios count separately")
            #expect(try await call("retry-a") == 503)
            #expect(try await call("retry-a") == 200)
            #expect(try await call("retry-a") == 200)
            #expect(try await call("retry-b") == 503)
            #expect(try await call("retry-b") == 200)

            try await mock.reset()
            #expect(try await call("retry-a") == 503, "reset forgets scenarios")
        }
    }

    @Test func cutStreamStopsAfterNEventsWithoutTerminator() async throws {
        try await withMockUpstream { mock in
            let response = try await TestHTTP.stream(
                .POST, mock.url("/v1/chat/completions"), headers: [("X-Mock-Cut-After", "3")],
                body: Self.streamBody(includeUsage: false))
            #expect(response.status == 200)
            #expect(response.events.count == 3)
            #expect(!response.events.contains("[DONE]"))
            #expect(response.bodyError != nil, "the client sees a broken body, not a complete one")

            await #expect(throws: (any Error).self, "a JSON body cut in half fails to complete") {
                _ = try await TestHTTP.send(
                    .POST, mock.url("/v1/chat/completions"), headers: [("X-Mock-Cut-After", "0")], body: Self.chatBody)
            }
            let stats = try await mock.stats()
            #expect(stats.clientDisconnects == 0, "the mock's own cuts are no client disconnects")
        }
    }

    @Test func hangUntilClientTimeoutCountsAClientDisconnect() async throws {
        try await withMockUpstream { mock in
            let started = ContinuousClock.now
            await #expect(throws: (any Error).self) {
                _ = try await TestHTTP.send(
                    .POST, mock.url("/v1/chat/completions"), headers: [("X-Mock-Hang", "1")],
                    body: Self.chatBody, timeout: .seconds(1))
            }
            #expect(ContinuousClock.now - started >= .seconds(1))
            let stats = try await mock.waitForStats { $0.clientDisconnects >= 1 }
            #expect(stats.clientDisconnects == 1)
            #expect(stats.requests == 1)
        }
    }

    @Test func statsCountRequestsByPathAndReset() async throws {
        try await withMockUpstream { mock in
            #expect(try await mock.lastRequest() == nil)
            _ = try await TestHTTP.send(.POST, mock.url("/v1/chat/completions"), body: Self.chatBody)
            _ = try await TestHTTP.send(.POST, mock.url("/v1/chat/completions"), body: Self.chatBody)
            _ = try await TestHTTP.send(
                .GET, mock.url("/v1/models?limit=1"),
                headers: [("Authorization", "Bearer sk-test"), ("X-Custom-Thing", "yes")])

            let stats = try await mock.stats()
            #expect(stats.requests == 3, "control endpoints are not counted")
            #expect(stats.byPath == ["/v1/chat/completions": 2, "/v1/models": 1])
            #expect(stats.clientDisconnects == 0)

            let last = try #require(try await mock.lastRequest())
            #expect(last.method == "GET")
            #expect(last.path == "/v1/models?limit=1")
            #expect(last.headers["authorization"] == "Bearer sk-test")
            #expect(last.headers["x-custom-thing"] == "yes")
            #expect(last.headers["host"] == "127.0.0.1:\(mock.port)")
            #expect(last.bodyBytes == 0)

            try await mock.reset()
            let afterReset = try await mock.stats()
            #expect(afterReset.requests == 0 && afterReset.byPath.isEmpty && afterReset.clientDisconnects == 0)
            #expect(afterReset.connections <= 1, "only the connection of this stats request, if it is a new one")
            #expect(try await mock.lastRequest() == nil)
        }
    }

    /// An answer to HEAD carries the head only, so the next answer on the connection parses.
    @Test func headAnswersHaveNoBody() async throws {
        try await withMockUpstream { mock in
            let request = "HEAD /v1/models HTTP/1.1\r\nHost: mock\r\n\r\n"
                + "GET /v1/models HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n"
            let answer = try await RawTCPClient.exchange(port: mock.port, request: request)
            let parts = answer.components(separatedBy: "\r\n\r\n")
            #expect(parts.first?.hasPrefix("HTTP/1.1 405") == true)
            #expect(parts.count > 1 && parts[1].hasPrefix("HTTP/1.1 200 OK"), "body bytes followed the HEAD answer: \(answer.prefix(400))")
        }
    }

    /// `X-Mock-Close-Delimited`: no `Content-Length`; the closed connection ends the body.
    @Test func closeDelimitedAnswersEndWithTheConnection() async throws {
        try await withMockUpstream { mock in
            let chat = #"{"model":"m","messages":[]}"#
            let request = "POST /v1/chat/completions HTTP/1.1\r\nHost: mock\r\nContent-Length: \(chat.utf8.count)\r\n"
                + "X-Mock-Close-Delimited: 1\r\n\r\n\(chat)"
            let answer = try await RawTCPClient.exchange(port: mock.port, request: request)
            let parts = answer.components(separatedBy: "\r\n\r\n")
            let head = parts[0].lowercased()
            #expect(head.hasPrefix("http/1.1 200 ok"))
            #expect(!head.contains("content-length") && !head.contains("transfer-encoding"))
            #expect(head.contains("connection: close"))
            #expect(parts.count == 2 && parts[1].hasPrefix("{") && parts[1].hasSuffix("}"))
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withMockUpstream { mock in
            let chat = #"{"model":"m","messages":[]}"#
            let stream = #"{"model":"m","stream":true,"messages":[]}"#
            // The first answer is delayed: the later ones must still come after it.
            let request =
                "POST /v1/chat/completions HTTP/1.1\r\nHost: mock\r\nContent-Length: \(chat.utf8.count)\r\n"
                + "X-Mock-Latency-Ms: 100\r\n\r\n\(chat)"
                + "GET /v1/models HTTP/1.1\r\nHost: mock\r\n\r\n"
                + "POST /v1/chat/completions HTTP/1.1\r\nHost: mock\r\nContent-Length: \(stream.utf8.count)\r\n"
                + "Connection: close\r\n\r\n\(stream)"
            let answer = try await RawTCPClient.exchange(port: mock.port, request: request)
            #expect(answer.components(separatedBy: "HTTP/1.1 200 OK\r\n").count == 4)
            let chatAt = try #require(answer.range(of: #""object":"chat.completion""#)?.lowerBound)
            let modelsAt = try #require(answer.range(of: #""owned_by""#)?.lowerBound)
            let doneAt = try #require(answer.range(of: "data: [DONE]")?.lowerBound)
            #expect(chatAt < modelsAt && modelsAt < doneAt)
            #expect(answer.hasSuffix("0\r\n\r\n"), "the stream ends with the terminating chunk")
        }
    }

    @Test func exitsCleanlyOnSIGTERM() async throws {
        let mock = try await MockUpstream.start()
        _ = try await TestHTTP.send(.GET, mock.url("/v1/models"))
        mock.process.kill(signal: SIGTERM)
        let code = try await mock.process.waitForExit(timeout: .seconds(30))
        #expect(code == 0, "stderr: \(mock.process.stderr)")
        #expect(mock.process.stdout.hasPrefix("reprise-mock-upstream listening on 127.0.0.1:\(mock.port)\n"))
    }
}

extension TestJSON {
    static func objectIsEqual(_ lhs: [String: Any], _ rhs: [String: Any]) -> Bool {
        (try? text(lhs)) == (try? text(rhs))
    }
}
