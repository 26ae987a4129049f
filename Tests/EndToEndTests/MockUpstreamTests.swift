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
            // 6 events (role, 3 pieces, finish, [DONE]) with 100 ms between: 500 ms of stream. A
            // client that reads late on a loaded machine sees the first events arrive together,
            // so the spread it measures is checked against half of that, not all of it.
            #expect(streamed.events.count == 6)
            #expect(ContinuousClock.now - started >= .milliseconds(800))
            let first = try #require(streamed.parts.first?.arrivedAt)
            let last = try #require(streamed.parts.last?.arrivedAt)
            #expect(last - first >= .milliseconds(250))
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

    // MARK: Models by id

    @Test func modelsAreListedAndDescribedByIdWithOpenAIs404ForUnknownIds() async throws {
        try await withMockUpstream { mock in
            let list = try await TestHTTP.send(.GET, mock.url("/v1/models"))
            let listJSON = try list.json()
            #expect(listJSON["object"] as? String == "list")
            let models = try #require(listJSON["data"] as? [[String: Any]])
            #expect(models.allSatisfy { $0["object"] as? String == "model" && $0["created"] is Int && $0["owned_by"] is String })
            let ids = models.compactMap { $0["id"] as? String }
            #expect(ids.contains("gpt-4o-mini") && ids.contains("deepseek-reasoner"))

            for path in ["/v1/models/gpt-4o-mini", "/models/gpt-4o-mini"] {
                let model = try await TestHTTP.send(.GET, mock.url(path))
                #expect(model.status == 200, "\(path)")
                let json = try model.json()
                #expect(json["id"] as? String == "gpt-4o-mini")
                #expect(json["object"] as? String == "model")
                #expect(json["owned_by"] as? String == "reprise-mock")
                #expect(models.contains { TestJSON.objectIsEqual($0, json) }, "the same object as in the list")
            }

            let unknown = try await TestHTTP.send(.GET, mock.url("/v1/models/gpt-nonexistent"))
            #expect(unknown.status == 404)
            let error = try #require(try unknown.json()["error"] as? [String: Any])
            #expect(error["type"] as? String == "invalid_request_error")
            #expect(error["code"] as? String == "model_not_found")
            #expect((error["message"] as? String)?.contains("gpt-nonexistent") == true)
            #expect(error["param"] is NSNull)

            let posted = try await TestHTTP.send(.POST, mock.url("/v1/models/gpt-4o"), body: "{}")
            #expect(posted.status == 405)

            let stats = try await mock.stats()
            #expect(stats.byPath["/v1/models/gpt-4o-mini"] == 1 && stats.byPath["/v1/models/gpt-nonexistent"] == 1)
        }
    }

    // MARK: Responses API

    static let responsesBody =
        #"{"model":"gpt-4o-mini","input":"What is a cache?","instructions":"Answer briefly.","#
        + #""metadata":{"run":"42"},"store":false,"temperature":0.5,"previous_response_id":"resp_earlier"}"#

    static let responsesToolsBody =
        #"{"model":"gpt-4o","input":[{"role":"user","content":"Weather in Paris?"}],"tools":[{"type":"function","#
        + #""name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"#
        + #""days":{"type":"integer"}},"required":["city","days"]},"strict":true}]"#

    /// `body` (a JSON object's text) with `"stream":true` added.
    static func streaming(_ body: String) -> String {
        String(body.dropLast()) + #","stream":true}"#
    }

    @Test func responsesAnswerIsAResponseObjectEchoingTheRequest() async throws {
        try await withMockUpstream { mock in
            let first = try await TestHTTP.send(.POST, mock.url("/v1/responses"), body: Self.responsesBody)
            let second = try await TestHTTP.send(.POST, mock.url("/responses"), body: Self.responsesBody)
            #expect(first.status == 200)
            #expect(first.headers["content-type"].first == "application/json")
            #expect(first.text == second.text, "same request, same answer (both paths)")

            let json = try first.json()
            #expect((json["id"] as? String)?.hasPrefix("resp_") == true)
            #expect(json["object"] as? String == "response")
            #expect(json["created_at"] is Int)
            #expect(json["status"] as? String == "completed")
            #expect(json["model"] as? String == "gpt-4o-mini")
            #expect(json["error"] is NSNull && json["incomplete_details"] is NSNull)
            #expect(json["instructions"] as? String == "Answer briefly.")
            #expect(json["previous_response_id"] as? String == "resp_earlier")
            #expect(json["store"] as? Bool == false)
            #expect(json["temperature"] as? Double == 0.5)
            #expect(json["metadata"] as? [String: String] == ["run": "42"])
            #expect((json["tools"] as? [Any])?.isEmpty == true)

            let output = try #require(json["output"] as? [[String: Any]])
            #expect(output.count == 1)
            let message = try #require(output.first)
            #expect((message["id"] as? String)?.hasPrefix("msg_") == true)
            #expect(message["type"] as? String == "message")
            #expect(message["role"] as? String == "assistant")
            #expect(message["status"] as? String == "completed")
            let content = try #require((message["content"] as? [[String: Any]])?.first)
            #expect(content["type"] as? String == "output_text")
            #expect((content["text"] as? String)?.isEmpty == false)
            #expect((content["annotations"] as? [Any])?.isEmpty == true)

            let usage = try #require(json["usage"] as? [String: Any])
            let input = try #require(usage["input_tokens"] as? Int)
            let outputTokens = try #require(usage["output_tokens"] as? Int)
            #expect(input > 0 && outputTokens > 0)
            #expect(usage["total_tokens"] as? Int == input + outputTokens)
            #expect((usage["input_tokens_details"] as? [String: Int])?["cached_tokens"] == 0)
            #expect((usage["output_tokens_details"] as? [String: Int])?["reasoning_tokens"] == 0)

            let itemsInput = try await TestHTTP.send(
                .POST, mock.url("/v1/responses"),
                body: #"{"model":"gpt-4o-mini","input":[{"role":"user","content":[{"type":"input_text","text":"Hi"}]}]}"#)
            let itemsJSON = try itemsInput.json()
            #expect(itemsJSON["status"] as? String == "completed", "input as a list of items")
            #expect(itemsJSON["instructions"] is NSNull && itemsJSON["previous_response_id"] is NSNull)
            #expect(itemsJSON["store"] as? Bool == true && itemsJSON["temperature"] as? Double == 1.0)
            #expect(itemsJSON["id"] as? String != json["id"] as? String, "another request, another id")

            let stats = try await mock.stats()
            #expect(stats.byPath["/v1/responses"] == 2 && stats.byPath["/responses"] == 1)
        }
    }

    @Test func responsesFunctionCallAsJSONAndStreamed() async throws {
        try await withMockUpstream { mock in
            let response = try await TestHTTP.send(.POST, mock.url("/v1/responses"), body: Self.responsesToolsBody + "}")
            let output = try #require(try response.json()["output"] as? [[String: Any]])
            let call = try #require(output.first)
            #expect(output.count == 1)
            #expect(call["type"] as? String == "function_call")
            #expect((call["id"] as? String)?.hasPrefix("fc_") == true)
            #expect((call["call_id"] as? String)?.hasPrefix("call_") == true)
            #expect(call["name"] as? String == "get_weather")
            #expect(call["status"] as? String == "completed")
            let arguments = try TestJSON.object(try #require(call["arguments"] as? String))
            #expect(arguments["city"] is String && arguments["days"] is Int)

            let streamed = try await TestHTTP.stream(
                .POST, mock.url("/v1/responses"), headers: [("X-Mock-Chunks", "4")],
                body: Self.streaming(Self.responsesToolsBody + "}"))
            let events = try Self.namedEvents(streamed.text)
            #expect(events.map(\.name) == [
                "response.created", "response.in_progress", "response.output_item.added",
                "response.function_call_arguments.delta", "response.function_call_arguments.delta",
                "response.function_call_arguments.delta", "response.function_call_arguments.delta",
                "response.function_call_arguments.done", "response.output_item.done", "response.completed",
            ])
            let added = try #require(events[2].data["item"] as? [String: Any])
            #expect(added["id"] as? String == call["id"] as? String && added["call_id"] as? String == call["call_id"] as? String)
            #expect(added["arguments"] as? String == "" && added["status"] as? String == "in_progress")
            let deltas = events.filter { $0.name == "response.function_call_arguments.delta" }
            #expect(deltas.allSatisfy { $0.data["item_id"] as? String == call["id"] as? String && $0.data["output_index"] as? Int == 0 })
            let assembled = deltas.compactMap { $0.data["delta"] as? String }.joined()
            #expect(assembled == call["arguments"] as? String, "the deltas add up to the JSON answer's arguments")
            #expect(events[7].data["arguments"] as? String == assembled)
            let done = try #require(events[8].data["item"] as? [String: Any])
            #expect(TestJSON.objectIsEqual(done, call))
        }
    }

    @Test func responsesStreamIsTheRealEventSequenceOfTheJSONAnswer() async throws {
        try await withMockUpstream(arguments: ["--chunks", "4"]) { mock in
            let json = try await TestHTTP.send(.POST, mock.url("/v1/responses"), body: Self.responsesBody).json()
            let streamed = try await TestHTTP.stream(.POST, mock.url("/v1/responses"), body: Self.streaming(Self.responsesBody))
            #expect(streamed.status == 200)
            #expect(streamed.bodyError == nil)
            #expect(streamed.headers["content-type"].first?.hasPrefix("text/event-stream") == true)
            #expect(!streamed.text.contains("[DONE]"), "the Responses API sends no [DONE]")

            let events = try Self.namedEvents(streamed.text)
            #expect(events.map(\.name) == [
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
                "response.output_text.delta", "response.output_text.done", "response.content_part.done",
                "response.output_item.done", "response.completed",
            ])
            #expect(events.allSatisfy { $0.data["type"] as? String == $0.name }, "event name = data type")
            #expect(events.map { $0.data["sequence_number"] as? Int } == Array(0..<events.count))

            for opening in events.prefix(2) {
                let response = try #require(opening.data["response"] as? [String: Any])
                #expect(response["id"] as? String == json["id"] as? String)
                #expect(response["status"] as? String == "in_progress")
                #expect((response["output"] as? [Any])?.isEmpty == true)
                #expect(response["usage"] is NSNull)
            }
            let message = try #require((json["output"] as? [[String: Any]])?.first)
            let text = try #require((message["content"] as? [[String: Any]])?.first?["text"] as? String)
            let added = try #require(events[2].data["item"] as? [String: Any])
            #expect(events[2].data["output_index"] as? Int == 0)
            #expect(added["id"] as? String == message["id"] as? String)
            #expect(added["status"] as? String == "in_progress" && (added["content"] as? [Any])?.isEmpty == true)
            let partEvents = events[3...10].filter { $0.name != "response.output_item.done" }
            #expect(partEvents.allSatisfy {
                $0.data["item_id"] as? String == message["id"] as? String
                    && $0.data["output_index"] as? Int == 0 && $0.data["content_index"] as? Int == 0
            })
            let deltas = events.filter { $0.name == "response.output_text.delta" }.compactMap { $0.data["delta"] as? String }
            #expect(deltas.joined() == text, "the deltas add up to the JSON answer's text")
            #expect(events[8].data["text"] as? String == text)
            #expect((events[9].data["part"] as? [String: Any])?["text"] as? String == text)
            #expect(TestJSON.objectIsEqual(try #require(events[10].data["item"] as? [String: Any]), message))
            let completed = try #require(events[11].data["response"] as? [String: Any])
            #expect(TestJSON.objectIsEqual(completed, json), "response.completed carries the JSON answer")

            let again = try await TestHTTP.stream(.POST, mock.url("/v1/responses"), body: Self.streaming(Self.responsesBody))
            #expect(again.text == streamed.text, "streams are deterministic too")
        }
    }

    @Test func responsesStreamHonoursCutsAndInjectedStatus() async throws {
        try await withMockUpstream { mock in
            let cut = try await TestHTTP.stream(
                .POST, mock.url("/v1/responses"), headers: [("X-Mock-Cut-After", "3")],
                body: Self.streaming(Self.responsesBody))
            #expect(try Self.namedEvents(cut.text).count == 3)
            #expect(!cut.text.contains("response.completed"))
            #expect(cut.bodyError != nil)

            let failed = try await TestHTTP.send(
                .POST, mock.url("/v1/responses"), headers: [("X-Mock-Status", "503")], body: Self.streaming(Self.responsesBody))
            #expect(failed.status == 503)
        }
    }

    // MARK: Reasoning

    @Test func reasonerAnswersCarryTheirReasoningAndItsTokens() async throws {
        try await withMockUpstream { mock in
            let body = #"{"model":"deepseek-reasoner","messages":[{"role":"user","content":"9.11 or 9.9?"}]}"#
            let json = try await TestHTTP.send(.POST, mock.url("/v1/chat/completions"), body: body).json()
            let message = try #require((json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
            #expect((message["reasoning_content"] as? String)?.isEmpty == false)
            #expect((message["content"] as? String)?.isEmpty == false)
            let usage = try #require(json["usage"] as? [String: Any])
            let completion = try #require(usage["completion_tokens"] as? Int)
            let reasoning = try #require((usage["completion_tokens_details"] as? [String: Int])?["reasoning_tokens"])
            #expect(reasoning > 0 && reasoning < completion)
            #expect(usage["prompt_cache_hit_tokens"] as? Int == 0)
            #expect(usage["prompt_cache_miss_tokens"] as? Int == usage["prompt_tokens"] as? Int)

            let streamed = try await TestHTTP.stream(
                .POST, mock.url("/v1/chat/completions"), headers: [("X-Mock-Chunks", "3")],
                body: String(body.dropLast()) + #","stream":true,"stream_options":{"include_usage":true}}"#)
            #expect(streamed.events.last == "[DONE]")
            let chunks = try streamed.events.dropLast().map(TestJSON.object)
            #expect(chunks.dropLast().allSatisfy { $0["usage"] is NSNull }, "usage null before the last chunk")
            let usageChunk = try #require(chunks.last)
            #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
            let streamedUsage = try #require(usageChunk["usage"] as? [String: Any])
            #expect((streamedUsage["completion_tokens_details"] as? [String: Int])?["reasoning_tokens"] ?? 0 > 0)

            let deltas = chunks.dropLast().compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
            #expect(deltas.first?["role"] as? String == "assistant")
            let reasoningDeltas = deltas.enumerated().filter { ($0.element["reasoning_content"] as? String)?.isEmpty == false }
            let contentDeltas = deltas.enumerated().filter { ($0.element["content"] as? String)?.isEmpty == false }
            #expect(reasoningDeltas.count == 3 && contentDeltas.count == 3)
            #expect(reasoningDeltas.allSatisfy { $0.element["content"] is NSNull }, "content null while reasoning")
            #expect(contentDeltas.allSatisfy { $0.element["reasoning_content"] is NSNull })
            #expect((reasoningDeltas.last?.offset ?? .max) < (contentDeltas.first?.offset ?? -1), "reasoning comes first")

            let responses = try await TestHTTP.send(
                .POST, mock.url("/v1/responses"), body: #"{"model":"deepseek-reasoner","input":"9.11 or 9.9?"}"#).json()
            let output = try #require(responses["output"] as? [[String: Any]])
            #expect(output.map { $0["type"] as? String } == ["reasoning", "message"])
            #expect((output.first?["id"] as? String)?.hasPrefix("rs_") == true)
            let details = (responses["usage"] as? [String: Any])?["output_tokens_details"] as? [String: Int]
            #expect(details?["reasoning_tokens"] ?? 0 > 0)
        }
    }

    // MARK: Realism

    @Test func endDelayWritesTheTerminatingChunkOnItsOwnLater() async throws {
        try await withMockUpstream(arguments: ["--end-delay-ms", "400"]) { mock in
            let cases: [(path: String, body: String, lastEvent: String)] = [
                ("/v1/chat/completions", Self.streamBody(includeUsage: true), "data: [DONE]\n\n"),
                ("/v1/responses", Self.streaming(Self.responsesBody), "event: response.completed\n"),
            ]
            for item in cases {
                let reads = try await LoopbackSocket.timedReads(port: mock.port, request: Self.rawPOST(item.path, body: item.body))
                let terminator = try #require(reads.last)
                #expect(terminator.bytes == Array("0\r\n\r\n".utf8), "the terminating chunk in a read of its own (\(item.path))")
                let beforeTerminator = String(decoding: reads.dropLast().flatMap(\.bytes), as: UTF8.self)
                #expect(beforeTerminator.contains(item.lastEvent) && beforeTerminator.hasSuffix("\n\n\r\n"))
                // The delay starts when the last event is written; that event's read may come
                // late on a loaded machine, so the measured gap may be shorter by that much.
                let lastEventRead = try #require(reads.dropLast().last)
                #expect(terminator.at - lastEventRead.at >= .milliseconds(300), "\(item.path)")
            }
        }
    }

    @Test func splitWritesCarryEachEventInSeveralChunksCutInsideCharacters() async throws {
        try await withMockUpstream(arguments: ["--split-writes", "--chunks", "4"]) { mock in
            let body = Self.streamBody(includeUsage: false)
            // Bytes, not text: a character cut by a chunk's size line is no valid UTF-8.
            func chunks(_ headers: [String] = []) async throws -> [[UInt8]] {
                let reads = try await LoopbackSocket.timedReads(
                    port: mock.port, request: Self.rawPOST("/v1/chat/completions", body: body, headers: headers))
                return try Self.chunkedBody(reads.flatMap(\.bytes))
            }
            let split = try await chunks()
            let whole = try await chunks(["X-Mock-Split-Writes: 0"])
            #expect(split.flatMap { $0 } == whole.flatMap { $0 }, "the same body, only cut differently")
            let eventCount = ServerSentEvents.dataPayloads(String(decoding: whole.flatMap { $0 }, as: UTF8.self)).count
            #expect(whole.count == eventCount, "one chunk per event without split writes")
            #expect(split.count >= 2 * eventCount, "every event in 2-3 chunks")
            #expect(split.count <= 3 * eventCount)
            #expect(split.contains { $0 == [UInt8(ascii: "\n")] }, "a cut between the event's two newlines")

            // Realistic texts hold multi-byte characters: a chunk starts inside one.
            let realistic = try await chunks(["X-Mock-Realistic: 1", "X-Mock-End-Delay-Ms: 0"])
            #expect(realistic.contains { ($0.first ?? 0) & 0xC0 == 0x80 }, "a chunk begins with a UTF-8 continuation byte")
            let text = String(decoding: realistic.flatMap { $0 }, as: UTF8.self)
            #expect(text.unicodeScalars.contains { $0.value > 0x7F })
            #expect(text.contains(": keep-alive\n\n"))
        }
    }

    @Test func keepAliveCommentsComeBetweenEventsAndChangeNoEvent() async throws {
        try await withMockUpstream(arguments: ["--keepalive-comments"]) { mock in
            let body = Self.streamBody(includeUsage: true)
            let commented = try await TestHTTP.stream(.POST, mock.url("/v1/chat/completions"), body: body)
            let plain = try await TestHTTP.stream(
                .POST, mock.url("/v1/chat/completions"), headers: [("X-Mock-Keepalive-Comments", "0")], body: body)
            #expect(commented.text.hasPrefix(": keep-alive\n\n"), "one before the first event")
            let comments = commented.text.components(separatedBy: ": keep-alive\n\n").count - 1
            #expect(comments >= 3, "and more between events")
            #expect(!plain.text.contains(": keep-alive"))
            #expect(commented.events == plain.events)
            #expect(commented.text.replacingOccurrences(of: ": keep-alive\n\n", with: "") == plain.text)
        }
    }

    @Test func realisticTurnsEverythingOnAndStaysDeterministic() async throws {
        try await withMockUpstream(arguments: ["--realistic", "--end-delay-ms", "300"]) { mock in
            let chat = try await TestHTTP.send(.POST, mock.url("/v1/chat/completions"), body: Self.chatBody)
            let again = try await TestHTTP.send(.POST, mock.url("/v1/chat/completions"), body: Self.chatBody)
            #expect(chat.text == again.text)
            let content = (try chat.json()["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
            #expect((content?["content"] as? String)?.unicodeScalars.contains { $0.value > 0x7F } == true)

            let deepseek = try await TestHTTP.send(
                .POST, mock.url("/v1/chat/completions"), body: #"{"model":"deepseek-chat","messages":[]}"#)
            let usage = try #require(try deepseek.json()["usage"] as? [String: Any])
            #expect(usage["prompt_cache_miss_tokens"] is Int, "DeepSeek's usage fields")

            let reads = try await LoopbackSocket.timedReads(
                port: mock.port, request: Self.rawPOST("/v1/responses", body: Self.streaming(Self.responsesBody)))
            let terminator = try #require(reads.last)
            #expect(terminator.bytes == Array("0\r\n\r\n".utf8), "the terminating chunk on its own, 300 ms later")
            let received = String(decoding: reads.flatMap(\.bytes), as: UTF8.self)
            #expect(received.contains(": keep-alive\n\n"))
            #expect(received.contains("event: response.completed\n"))

            let plain = try await TestHTTP.send(
                .POST, mock.url("/v1/chat/completions"), headers: [("X-Mock-Realistic", "0")], body: Self.chatBody)
            #expect(plain.text != chat.text && !plain.text.unicodeScalars.contains { $0.value > 0x7F })
        }
    }

    // MARK: Helpers

    static func rawPOST(_ path: String, body: String, headers: [String] = []) -> String {
        "POST \(path) HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            + headers.map { $0 + "\r\n" }.joined() + "Connection: close\r\n\r\n" + body
    }

    struct MalformedAnswer: Error, CustomStringConvertible {
        let description: String
    }

    /// The chunks of a chunked HTTP answer (without the terminating one), as bytes.
    static func chunkedBody(_ bytes: [UInt8]) throws -> [[UInt8]] {
        let separator = Array("\r\n\r\n".utf8)
        guard let headEnd = (0...(bytes.count - separator.count)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else {
            throw MalformedAnswer(description: "no end of head")
        }
        var chunks: [[UInt8]] = []
        var index = headEnd + 4
        while true {
            guard let lineEnd = bytes[index...].firstIndex(of: UInt8(ascii: "\r")),
                  let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16),
                  lineEnd + 2 + size + 2 <= bytes.count
            else { throw MalformedAnswer(description: "bad chunk at byte \(index)") }
            if size == 0 { return chunks }
            chunks.append(Array(bytes[(lineEnd + 2)..<(lineEnd + 2 + size)]))
            index = lineEnd + 2 + size + 2
        }
    }

    /// The events of a Responses stream: `event:` name and the parsed `data:` object.
    static func namedEvents(_ text: String) throws -> [(name: String, data: [String: Any])] {
        var blocks = text.components(separatedBy: "\n\n")
        blocks.removeLast()
        return try blocks.compactMap { block in
            let lines = block.split(separator: "\n")
            guard let name = lines.first(where: { $0.hasPrefix("event: ") })?.dropFirst(7),
                  let data = lines.first(where: { $0.hasPrefix("data: ") })?.dropFirst(6)
            else { return nil }
            return (String(name), try TestJSON.object(String(data)))
        }
    }

    // MARK: - HTTPS (--tls-certificate / --tls-key)

    /// curl over HTTPS to the mock, trusting only the test CA: a JSON answer, then on a second
    /// connection a stream that ends with `[DONE]`, each handshake verified against 127.0.0.1.
    @Test func servesJSONAndStreamsOverHTTPSWithTheGivenCertificate() async throws {
        let pki = try await TLSTestPKI.make()
        defer { pki.remove() }
        try await withMockUpstream(arguments: ["--tls-certificate", pki.serverCertificate, "--tls-key", pki.serverKey]) { mock in
            #expect(mock.process.stdout.contains("listening on 127.0.0.1:\(mock.port) (https)"))
            let url = "https://127.0.0.1:\(mock.port)/v1/chat/completions"
            let json = try await ClientCommand.run("/usr/bin/curl", [
                "-sS", "--http1.1", "--max-time", "30", "--cacert", pki.caCertificate,
                "-H", "Content-Type: application/json", "--data-binary", Self.chatBody,
                "-w", "\n%{http_code} %{ssl_verify_result}", url,
            ])
            #expect(json.exitCode == 0, "\(json.output)")
            let lines = json.stdout.split(separator: "\n")
            #expect(lines.last == "200 0", "status 200, certificate verified: \(json.output)")
            let answer = try TestJSON.object(String(lines.dropLast().joined(separator: "\n")))
            #expect(answer["object"] as? String == "chat.completion")

            let stream = try await ClientCommand.run("/usr/bin/curl", [
                "-sS", "-N", "--http1.1", "--max-time", "30", "--cacert", pki.caCertificate,
                "-H", "Content-Type: application/json", "-H", "X-Mock-Chunks: 3",
                "--data-binary", Self.streamBody(includeUsage: false), url,
            ])
            #expect(stream.exitCode == 0, "\(stream.output)")
            let events = stream.stdout.split(separator: "\n").filter { $0.hasPrefix("data: ") }
            #expect(events.count == 6, "role, 3 pieces, finish, [DONE]: \(stream.stdout)")
            #expect(events.last == "data: [DONE]")
        }
    }

    /// Several requests on one TLS connection (curl reuses it for URLs of the same origin), and a
    /// client that does not trust the CA is refused during the handshake.
    @Test func keepsTLSConnectionsAliveAndIsRefusedWithoutTheCA() async throws {
        let pki = try await TLSTestPKI.make()
        defer { pki.remove() }
        try await withMockUpstream(arguments: ["--tls-certificate", pki.serverCertificate, "--tls-key", pki.serverKey]) { mock in
            let url = "https://localhost:\(mock.port)/v1/models"
            let twice = try await ClientCommand.run("/usr/bin/curl", [
                "-sS", "-o", "/dev/null", "-o", "/dev/null", "--http1.1", "--max-time", "30",
                "--cacert", pki.caCertificate, "-w", "%{http_code} %{num_connects}\n", url, url,
            ])
            #expect(twice.exitCode == 0, "\(twice.output)")
            #expect(twice.stdout == "200 1\n200 0\n", "the second request reuses the first connection: \(twice.output)")

            let untrusted = try await ClientCommand.run("/usr/bin/curl", ["-sS", "--max-time", "30", url])
            #expect(untrusted.exitCode == 60, "curl: certificate problem: \(untrusted.output)")
        }
    }

    @Test func refusesHalfATLSConfigurationAndNamesAnUnreadableFile() async throws {
        let half = try ManagedProcess(executable: try TestBinaries.mockUpstream, arguments: ["--port", "0", "--tls-certificate", "/nonexistent.pem"])
        #expect(try await half.waitForExit(timeout: .seconds(30)) != 0)
        #expect(half.stderr.contains("--tls-certificate and --tls-key go together"), "\(half.stderr)")

        let missing = try ManagedProcess(
            executable: try TestBinaries.mockUpstream,
            arguments: ["--port", "0", "--tls-certificate", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"])
        #expect(try await missing.waitForExit(timeout: .seconds(30)) != 0)
        #expect(missing.stderr.contains("/nonexistent/cert.pem"), "\(missing.stderr)")
        #expect(!missing.stdout.contains("listening"))
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

extension LoopbackSocket {
    /// Sends `request`, then reads until the server closes, noting when each read returned:
    /// how the server's writes reach a client. Blocking reads, on a thread of their own.
    static func timedReads(port: Int, request: String) async throws -> [(at: ContinuousClock.Instant, bytes: [UInt8])] {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try blockingTimedReads(port: port, request: request) })
            }
        }
    }

    private static func blockingTimedReads(port: Int, request: String) throws -> [(at: ContinuousClock.Instant, bytes: [UInt8])] {
        let fd = try connect(port: port)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            throw Failure(description: "send failed: errno \(errno)")
        }
        var reads: [(at: ContinuousClock.Instant, bytes: [UInt8])] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return reads }
            guard count > 0 else { throw Failure(description: "recv failed: errno \(errno)") }
            reads.append((.now, Array(buffer[0..<count])))
        }
    }
}
