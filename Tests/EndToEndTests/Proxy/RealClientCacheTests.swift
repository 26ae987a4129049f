import Foundation
import Testing

/// What real clients do that curl does not: the OpenAI SDK hangs up as soon as it read
/// `data: [DONE]`, while real APIs end the chunked body a moment later (`--end-delay-ms`); SDKs
/// and frameworks fetch the model list at every start.
@Suite(.serialized) struct RealClientCacheTests {
    static let streamed = #"{"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"Why hang up early?"}]}"#
    static let json = #"{"model":"deepseek-chat","messages":[{"role":"user","content":"Why hang up early?"}]}"#

    private func request(_ body: String, path: String = "/v1/chat/completions", token: String = "sk-tenant-a", headers: [String] = []) -> String {
        var request = "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer \(token)\r\n"
        for header in headers { request += header + "\r\n" }
        return request + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    private func post(_ proxy: RepriseProcess, _ body: String, path: String = "/v1/chat/completions", token: String = "sk-tenant-a") throws -> RawHTTPConnection.Response {
        let connection = try proxy.connect()
        try connection.send(request(body, path: path, token: token))
        return try connection.readResponse()
    }

    private func get(_ proxy: RepriseProcess, _ path: String, token: String? = "sk-tenant-a") throws -> RawHTTPConnection.Response {
        let connection = try proxy.connect()
        try connection.send("GET \(path) HTTP/1.1\r\nHost: x\r\n" + (token.map { "Authorization: Bearer \($0)\r\n" } ?? "") + "\r\n")
        return try connection.readResponse()
    }

    /// Sends a streamed request, reads up to `data: [DONE]` and closes, as the SDK does.
    private func streamAndHangUpAtDone(_ proxy: RepriseProcess, headers: [String] = []) throws -> String {
        let connection = try proxy.connect()
        try connection.send(request(Self.streamed, headers: headers))
        return try connection.read(until: "data: [DONE]")
    }

    @Test func aStreamWhoseClientHangsUpAtDoneIsStoredAndReplayed() async throws {
        try await withMockAndReprise(mockArguments: ["--end-delay-ms", "1500"]) { mock, proxy in
            let first = try streamAndHangUpAtDone(proxy)
            #expect(first.contains("x-cache: MISS"))
            // Well before the upstream's body ends (1.5 s after [DONE]).
            try await Task.sleep(for: .milliseconds(200))
            let second = try post(proxy, Self.streamed)
            #expect(second.header("x-cache") == "HIT")
            #expect(second.text.hasSuffix("data: [DONE]\n\n"))
            // A JSON request is answered from the recorded stream too.
            let json = try post(proxy, Self.json)
            #expect(json.header("x-cache") == "HIT")
            #expect(json.text.contains(#""finish_reason":"stop""#))
            #expect(try await mock.stats().requests == 1)
            // The upstream's body still ends: its connection is not cut, no disconnect counted.
            try await Task.sleep(for: .milliseconds(1800))
            #expect(try await mock.stats().clientDisconnects == 0)
        }
    }

    @Test func aClientThatHangsUpBeforeDoneStillStoresNothing() async throws {
        try await withMockAndReprise(mockArguments: ["--end-delay-ms", "200"]) { mock, proxy in
            let connection = try proxy.connect()
            try connection.send(request(Self.streamed, headers: ["X-Mock-Chunks: 10", "X-Mock-Chunk-Delay-Ms: 150"]))
            _ = try connection.read(until: "data: {")
            _ = consume connection
            try await Task.sleep(for: .milliseconds(2500))
            let repeatAfterCut = try self.post(proxy, Self.streamed)
            #expect(repeatAfterCut.header("x-cache") == "MISS")
            #expect(try await mock.stats().requests == 2)
        }
    }

    /// The flight ends at `[DONE]` too: followers (the same shape, and a JSON request answered
    /// from the stream) get their whole answer at once, although the upstream's body ends only
    /// 20 s later and the leader's client left at `[DONE]`.
    @Test func coalescedFollowersGetTheirAnswerAtDone() async throws {
        try await withMockAndReprise(mockArguments: ["--end-delay-ms", "20000"]) { mock, proxy in
            let slow = ["X-Mock-Chunks: 6", "X-Mock-Chunk-Delay-Ms: 100"]
            let leader = try proxy.connect()
            try leader.send(request(Self.streamed, headers: slow))
            _ = try leader.read(until: "data: {")
            // Well within the upstream's 20 s pause: an answer that waited for it would time out.
            let streamFollower = try proxy.connect(timeout: 8)
            try streamFollower.send(request(Self.streamed, headers: slow))
            let jsonFollower = try proxy.connect(timeout: 8)
            try jsonFollower.send(request(Self.json, headers: slow))
            _ = try leader.read(until: "data: [DONE]")
            _ = consume leader
            let joinedStream = try streamFollower.readResponse()
            #expect(joinedStream.header("x-cache") == "COALESCED")
            #expect(joinedStream.text.hasSuffix("data: [DONE]\n\n"))
            let joinedJSON = try jsonFollower.readResponse()
            #expect(joinedJSON.header("x-cache") == "COALESCED")
            #expect(joinedJSON.text.contains(#""finish_reason":"stop""#))
            let repeated = try self.post(proxy, Self.streamed)
            #expect(repeated.header("x-cache") == "HIT")
            #expect(try await mock.stats().requests == 1)
        }
    }

    /// A response id is the upstream account's: even with `namespace: global`, which shares
    /// chat answers between credentials by choice, Responses answers stay per credential.
    @Test func responsesAnswersStayPerCredentialUnderAGlobalNamespace() async throws {
        try await withMockAndReprise(yaml: "cache:\n  namespace: global\n") { mock, proxy in
            let responses = #"{"model":"gpt-4o-mini","input":"Whose response is this?"}"#
            let first = try self.post(proxy, responses, path: "/v1/responses", token: "sk-tenant-a")
            #expect(first.header("x-cache") == "MISS")
            #expect(first.text.contains(#""object":"response""#))
            try await Task.sleep(for: .milliseconds(200))
            let sameTenant = try self.post(proxy, responses, path: "/v1/responses", token: "sk-tenant-a")
            #expect(sameTenant.header("x-cache") == "HIT")
            let otherTenant = try self.post(proxy, responses, path: "/v1/responses", token: "sk-tenant-b")
            #expect(otherTenant.header("x-cache") == "MISS")
            // Chat answers are shared, as `global` asks.
            _ = try self.post(proxy, Self.json, token: "sk-tenant-a")
            try await Task.sleep(for: .milliseconds(200))
            let sharedChat = try self.post(proxy, Self.json, token: "sk-tenant-b")
            #expect(sharedChat.header("x-cache") == "HIT")
            #expect(try await mock.stats().requests == 3)
        }
    }

    /// `conversation` and background mode depend on server state that moves: never cached.
    @Test func responsesOnMutableServerStatePassThrough() async throws {
        try await withMockAndReprise { mock, proxy in
            for body in [#"{"model":"gpt-4o-mini","input":"next turn","conversation":"conv_1"}"#,
                         #"{"model":"gpt-4o-mini","input":"long job","background":true}"#] {
                for _ in 0..<2 {
                    let answer = try self.post(proxy, body, path: "/v1/responses")
                    #expect(answer.header("x-cache") == "BYPASS")
                }
            }
            #expect(try await mock.stats().requests == 4)
        }
    }

    @Test func modelListsAreCachedPerTenantForGetTTL() async throws {
        try await withMockAndReprise(yaml: "cache:\n  get_ttl: 1s\n") { mock, proxy in
            let first = try get(proxy, "/v1/models")
            #expect(first.status == 200)
            #expect(first.header("x-cache") == "MISS")
            try await Task.sleep(for: .milliseconds(100))
            let second = try get(proxy, "/v1/models")
            #expect(second.header("x-cache") == "HIT")
            #expect(second.body == first.body)
            let shortPath = try self.get(proxy, "/models", token: "sk-tenant-a")
            #expect(shortPath.header("x-cache") == "HIT")
            let otherTenant = try self.get(proxy, "/v1/models", token: "sk-tenant-b")
            #expect(otherTenant.header("x-cache") == "MISS")
            let anonymous = try self.get(proxy, "/v1/models", token: nil)
            #expect(anonymous.header("x-cache") == "BYPASS")
            #expect(try await mock.stats().requests == 3)
            // get_ttl: 1s — the list is asked again once it expired.
            try await Task.sleep(for: .milliseconds(1300))
            let afterExpiry = try self.get(proxy, "/v1/models")
            #expect(afterExpiry.header("x-cache") == "MISS")
            #expect(try await mock.stats().requests == 4)
        }
    }

    @Test func getPathsCanBeTurnedOff() async throws {
        try await withMockAndReprise(yaml: "cache:\n  get_paths: []\n") { mock, proxy in
            let firstList = try self.get(proxy, "/v1/models")
            #expect(firstList.header("x-cache") == "BYPASS")
            let secondList = try self.get(proxy, "/v1/models")
            #expect(secondList.header("x-cache") == "BYPASS")
            #expect(try await mock.stats().requests == 2)
        }
    }
}
