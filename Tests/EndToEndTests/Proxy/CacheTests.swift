import Foundation
import Testing

/// The exact-match cache end to end: the real `reprise` in front of the real mock upstream,
/// whose request counter proves when the upstream was (not) called.
@Suite(.serialized) struct CacheTests {
    static let adminToken = "test-admin-token-0123456789"
    static let chat = #"{"model":"deepseek-chat","messages":[{"role":"user","content":"What is a cache?"}]}"#
    static let chatReordered = "{\n  \"messages\" : [ { \"content\" : \"What is a cache?\", \"role\" : \"user\" } ],\n  \"model\" : \"deepseek-chat\", \"stream\": false }"
    static let streamed = #"{"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"What is a cache?"}]}"#

    private func withProxy(yaml: String = "", _ body: (MockUpstream, RepriseProcess) async throws -> Void) async throws {
        try await withMockAndReprise(yaml: "admin:\n  token: \(Self.adminToken)\n" + yaml, body)
    }

    /// Waits until the memory tier counted `count` stores (`/metrics`): a miss's exchange stores
    /// its answer a moment after the client read it, later still on a loaded machine, so a
    /// fixed pause made the next request's HIT a race.
    private func waitUntilStored(_ proxy: RepriseProcess, count: Int) async throws {
        let series = #"llm_cache_operations_total{op="set",backend="memory",result="stored"} "#
        for _ in 0 ..< 100 {
            let text = try await TestHTTP.send(.GET, proxy.url("/metrics")).text
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(series) }),
               let stored = Int(line.dropFirst(series.count)), stored >= count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the memory tier did not count \(count) stores within 5 s")
    }

    private func post(
        _ proxy: RepriseProcess, _ body: String, path: String = "/v1/chat/completions",
        token: String = "sk-tenant-a", headers: [String] = []
    ) throws -> RawHTTPConnection.Response {
        let connection = try proxy.connect()
        var request = "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer \(token)\r\n"
        for header in headers { request += header + "\r\n" }
        request += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        try connection.send(request)
        return try connection.readResponse()
    }

    /// Checks a response's `X-Cache`, reporting the caller's line.
    private func expectCacheStatus(
        _ expected: String, _ response: RawHTTPConnection.Response, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(response.header("x-cache") == expected, sourceLocation: sourceLocation)
    }

    /// A repeat answered without the upstream: from the cache, or from the flight that is just
    /// finishing (the answer is stored when the upstream exchange ends, which can be a moment
    /// after the client read it).
    private func expectStoredAnswer(_ response: RawHTTPConnection.Response, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(["HIT", "COALESCED"].contains(response.header("x-cache")), sourceLocation: sourceLocation)
    }

    private func upstreamCalls(_ mock: MockUpstream) async throws -> Int {
        try await mock.stats().requests
    }

    @Test func repeatedJSONRequestIsAHitWithoutAnUpstreamCall() async throws {
        try await withProxy { mock, proxy in
            let first = try post(proxy, Self.chat)
            #expect(first.status == 200)
            #expect(first.header("x-cache") == "MISS")
            #expect(first.header("age") == nil)
            try await waitUntilStored(proxy, count: 1)
            let second = try post(proxy, Self.chatReordered)
            #expect(second.header("x-cache") == "HIT")
            #expect(second.header("age") == "0")
            #expect(second.body == first.body)
            #expect(second.header("content-type") == first.header("content-type"))
            #expect(try await self.upstreamCalls(mock) == 1)
        }
    }

    @Test func streamedAnswerIsRecordedAndReplayed() async throws {
        try await withProxy { mock, proxy in
            let live = try post(proxy, Self.streamed)
            #expect(live.header("x-cache") == "MISS")
            #expect(live.text.hasSuffix("data: [DONE]\n\n"))
            try await waitUntilStored(proxy, count: 1)
            let replayed = try post(proxy, Self.streamed)
            #expect(replayed.header("x-cache") == "HIT")
            #expect(replayed.header("content-type")?.hasPrefix("text/event-stream") == true)
            #expect(replayed.text == live.text)
            // The JSON shape of the same question comes from the recorded stream.
            let assembled = try post(proxy, Self.chat)
            #expect(assembled.header("x-cache") == "HIT")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(assembled.body)) as? [String: Any])
            #expect(document["object"] as? String == "chat.completion")
            #expect(try await self.upstreamCalls(mock) == 1)
        }
    }

    /// Replayed answers are written as one buffer up to 4 KiB and as head plus the stored body
    /// above: both sides of that limit come back byte for byte.
    @Test func storedAnswersOfEverySizeAreReplayedWhole() async throws {
        try await withProxy { mock, proxy in
            for (stored, (chunks, question)) in [(2, "small"), (150, "large")].enumerated() {
                let body = Self.streamed.replacingOccurrences(of: "What is a cache?", with: "A \(question) answer?")
                let live = try post(proxy, body, headers: ["X-Mock-Chunks: \(chunks)"])
                #expect(live.header("x-cache") == "MISS")
                try await waitUntilStored(proxy, count: stored + 1)
                let replayed = try post(proxy, body)
                #expect(replayed.header("x-cache") == "HIT")
                #expect(replayed.body == live.body)
                #expect((replayed.body.count > 4096) == (chunks > 100), "\(replayed.body.count) bytes")
            }
            #expect(try await self.upstreamCalls(mock) == 2)
        }
    }

    @Test func jsonEntryAnswersAStreamingRequest() async throws {
        try await withProxy { mock, proxy in
            let json = try post(proxy, Self.chat)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.body)) as? [String: Any])
            let content = try #require(((object["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String)
            let stream = try post(proxy, Self.streamed)
            // The first answer is stored when the upstream exchange ends, which can be a moment
            // after the client read it: a request in that moment joins the finished flight.
            #expect(["HIT", "COALESCED"].contains(stream.header("x-cache")))
            #expect(stream.text.hasSuffix("data: [DONE]\n\n"))
            var text = ""
            for line in stream.text.split(separator: "\n") where line.hasPrefix("data: {") {
                let chunk = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
                #expect(chunk["object"] as? String == "chat.completion.chunk")
                let delta = (chunk["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
                text += delta?["content"] as? String ?? ""
            }
            #expect(text == content)
            #expect(try await self.upstreamCalls(mock) == 1)
        }
    }

    @Test func tenantsNeverShareAnswers() async throws {
        try await withProxy { mock, proxy in
            try expectCacheStatus("MISS", self.post(proxy, Self.chat, token: "sk-tenant-a"))
            try expectCacheStatus("MISS", self.post(proxy, Self.chat, token: "sk-tenant-b"))
            try expectStoredAnswer(self.post(proxy, Self.chat, token: "sk-tenant-a"))
            try expectStoredAnswer(self.post(proxy, Self.chat, token: "sk-tenant-b"))
            #expect(try await self.upstreamCalls(mock) == 2)
        }
    }

    @Test func globalNamespaceSharesAcrossCredentials() async throws {
        try await withProxy(yaml: "cache:\n  namespace: global\n") { mock, proxy in
            try expectCacheStatus("MISS", self.post(proxy, Self.chat, token: "sk-one"))
            try expectStoredAnswer(self.post(proxy, Self.chat, token: "sk-two"))
            #expect(try await self.upstreamCalls(mock) == 1)
        }
    }

    @Test func requestDirectives() async throws {
        try await withProxy { mock, proxy in
            // no-store: answered, never stored (the pause lets the first exchange end, so the
            // second cannot join its flight and must find the cache empty).
            try expectCacheStatus("MISS", self.post(proxy, Self.chat, headers: ["Cache-Control: no-store"]))
            try await Task.sleep(for: .milliseconds(300))
            try expectCacheStatus("MISS", self.post(proxy, Self.chat, headers: ["Cache-Control: no-store"]))
            #expect(try await self.upstreamCalls(mock) == 2)
            // A normal request stores; no-cache skips the lookup but refreshes the entry.
            try expectCacheStatus("MISS", self.post(proxy, Self.chat))
            try expectCacheStatus("MISS", self.post(proxy, Self.chat, headers: ["Cache-Control: no-cache"]))
            #expect(try await self.upstreamCalls(mock) == 4)
            // no-store may be answered from cache.
            try expectStoredAnswer(self.post(proxy, Self.chat, headers: ["Cache-Control: no-store"]))
            // max-age: an entry older than N seconds is not acceptable.
            try await Task.sleep(for: .milliseconds(2100))
            let fresh = try post(proxy, Self.chat, headers: ["Cache-Control: max-age=60"])
            #expect(fresh.header("x-cache") == "HIT")
            #expect(Int(fresh.header("age") ?? "") ?? 0 >= 2)
            try expectCacheStatus("MISS", self.post(proxy, Self.chat, headers: ["Cache-Control: max-age=1"]))
            #expect(try await self.upstreamCalls(mock) == 5)
        }
    }

    @Test func ttlHeaderSetsTheLifetime() async throws {
        try await withProxy { mock, proxy in
            try expectCacheStatus("MISS", self.post(proxy, Self.chat, headers: ["X-Reprise-Cache-TTL: 1"]))
            try expectStoredAnswer(self.post(proxy, Self.chat))
            try await Task.sleep(for: .milliseconds(1600))
            try expectCacheStatus("MISS", self.post(proxy, Self.chat))
            // The control header is Reprise's own: the upstream never sees it.
            let seen = try #require(try await mock.lastRequest())
            #expect(seen.headers["x-reprise-cache-ttl"] == nil)
            #expect(try await self.upstreamCalls(mock) == 2)
        }
    }

    @Test func brokenAndFailedAnswersAreNotStored() async throws {
        // One attempt per request, and no-cache on the faulty ones so each reaches the upstream
        // itself instead of joining the previous request's flight: this test is about storing.
        try await withProxy(yaml: "upstream:\n  retry:\n    max_attempts: 1\n") { mock, proxy in
            // An upstream error.
            #expect(try self.post(proxy, Self.chat, headers: ["X-Mock-Status: 500", "Cache-Control: no-cache"]).status == 500)
            // A stream cut in the middle.
            #expect(throws: RawHTTPConnection.Failure.self) {
                try post(proxy, Self.streamed, headers: ["X-Mock-Cut-After: 2", "Cache-Control: no-cache"])
            }
            try await Task.sleep(for: .milliseconds(200))
            // Neither left an entry: the next request goes upstream.
            try expectCacheStatus("MISS", self.post(proxy, Self.streamed))
            let stats = try await mock.stats()
            #expect(stats.requests == 3, "\(stats)")
        }
    }

    @Test func clientThatLeavesMidStreamStoresNothing() async throws {
        try await withProxy { mock, proxy in
            let connection = try proxy.connect()
            let body = Self.streamed
            try connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-tenant-a\r\nX-Mock-Chunks: 10\r\nX-Mock-Chunk-Delay-Ms: 150\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            try await Task.sleep(for: .milliseconds(400))
            _ = consume connection  // closes the socket mid-stream
            try await Task.sleep(for: .milliseconds(2500))
            try expectCacheStatus("MISS", self.post(proxy, Self.streamed))
            #expect(try await self.upstreamCalls(mock) == 2)
            #expect(try await mock.stats().clientDisconnects >= 1)
        }
    }

    @Test func uncacheableRequestsBypass() async throws {
        try await withProxy { mock, proxy in
            let models = try proxy.connect()
            try models.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try models.readResponse().header("x-cache") == "BYPASS")
            let broken = try post(proxy, "{not json")
            #expect(broken.header("x-cache") == "BYPASS")
            #expect(broken.status == 400)  // the upstream's own answer
            #expect(try await self.upstreamCalls(mock) == 2)
        }
    }

    @Test func nonDeterministicRequestsCanBypass() async throws {
        try await withProxy(yaml: "cache:\n  non_deterministic: bypass\n") { mock, proxy in
            let sampled = #"{"model":"deepseek-chat","temperature":0.7,"messages":[{"role":"user","content":"x"}]}"#
            try expectCacheStatus("BYPASS", self.post(proxy, sampled))
            try expectCacheStatus("BYPASS", self.post(proxy, sampled))
            let greedy = #"{"model":"deepseek-chat","temperature":0,"messages":[{"role":"user","content":"x"}]}"#
            try expectCacheStatus("MISS", self.post(proxy, greedy))
            try expectStoredAnswer(self.post(proxy, greedy))
            #expect(try await self.upstreamCalls(mock) == 3)
        }
    }

    @Test func adminPurge() async throws {
        try await withProxy { mock, proxy in
            _ = try post(proxy, Self.chat, token: "sk-tenant-a")
            _ = try post(proxy, Self.chat, token: "sk-tenant-b")
            let unauthorized = try post(proxy, "", path: "/admin/cache", token: "wrong-token-wrong-token")
            #expect(unauthorized.status != 200)
            let connection = try proxy.connect()
            try connection.send("DELETE /admin/cache HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(Self.adminToken)\r\n\r\n")
            let purged = try connection.readResponse()
            #expect(purged.status == 200)
            #expect(purged.text.contains("\"purged\":2,\"memory\":2,\"redis\":null"), "\(purged.text)")
            try expectCacheStatus("MISS", self.post(proxy, Self.chat, token: "sk-tenant-a"))
            #expect(try await self.upstreamCalls(mock) == 3)
        }
    }
}
