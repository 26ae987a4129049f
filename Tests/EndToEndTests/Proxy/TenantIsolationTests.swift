import Foundation
import Testing

/// Tenant isolation end to end: each credential form is its own tenant, and a request without a
/// credential is neither answered from the cache nor stored unless the operator asks for it.
@Suite(.serialized) struct TenantIsolationTests {
    static let chat = #"{"model":"deepseek-chat","messages":[{"role":"user","content":"Whose answer is this?"}]}"#

    /// One POST of `chat` with exactly `headers` (besides framing) over a fresh connection.
    private func post(_ proxy: RepriseProcess, headers: [String]) throws -> RawHTTPConnection.Response {
        let connection = try proxy.connect()
        var request = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        for header in headers { request += header + "\r\n" }
        request += "Content-Length: \(Self.chat.utf8.count)\r\n\r\n" + Self.chat
        try connection.send(request)
        return try connection.readResponse()
    }

    /// Lets a finished exchange store its answer (it ends a moment after the client read it).
    private func settle() async throws {
        try await Task.sleep(for: .milliseconds(300))
    }

    @Test func requestsWithoutACredentialBypassTheCache() async throws {
        try await withMockAndReprise { mock, proxy in
            for attempt in 0..<2 {
                let answer = try post(proxy, headers: [])
                #expect(answer.status == 200, "attempt \(attempt)")
                #expect(answer.header("x-cache") == "BYPASS", "attempt \(attempt)")
                try await settle()
            }
            #expect(try await mock.stats().requests == 2)
            // A credential header with nothing in it is no credential either.
            #expect(try post(proxy, headers: ["Authorization: "]).header("x-cache") == "BYPASS")
            #expect(try await mock.stats().requests == 3)
        }
    }

    @Test func headerModeWithoutItsHeaderBypassesTheCache() async throws {
        try await withMockAndReprise(yaml: "cache:\n  namespace: header:x-team\n") { mock, proxy in
            #expect(try post(proxy, headers: ["Authorization: Bearer sk-1"]).header("x-cache") == "BYPASS")
            try await settle()
            #expect(try post(proxy, headers: ["Authorization: Bearer sk-1"]).header("x-cache") == "BYPASS")
            #expect(try await mock.stats().requests == 2)
        }
    }

    @Test func operatorCanLetAnonymousRequestsShareTheCache() async throws {
        try await withMockAndReprise(yaml: "cache:\n  anonymous: cache\n") { mock, proxy in
            #expect(try post(proxy, headers: []).header("x-cache") == "MISS")
            try await settle()
            #expect(try post(proxy, headers: []).header("x-cache") == "HIT")
            #expect(try await mock.stats().requests == 1)
        }
    }

    /// One secret in every form: each form is a tenant of its own (a MISS the first time), and
    /// each gets its own stored answer back (a HIT the second time).
    @Test func credentialFormsNeverShareAnAnswer() async throws {
        let forms = [
            "Authorization: Bearer sk-shared",
            "Authorization: Basic sk-shared",
            "Authorization: sk-shared",
            "Authorization: Bearer\tsk-shared",
            "x-api-key: sk-shared",
            "x-goog-api-key: sk-shared",
        ]
        try await withMockAndReprise { mock, proxy in
            for form in forms {
                let answer = try post(proxy, headers: [form])
                #expect(answer.status == 200, "\(form)")
                #expect(answer.header("x-cache") == "MISS", "\(form) was answered from another tenant's entry")
                try await settle()
            }
            #expect(try await mock.stats().requests == forms.count)
            for form in forms {
                #expect(try post(proxy, headers: [form]).header("x-cache") == "HIT", "\(form)")
            }
            #expect(try await mock.stats().requests == forms.count)
        }
    }
}
