import Foundation
import Testing

/// `cache.namespace: credential` (the default) with every form a credential can take: each is
/// a tenant of its own, and a request without one is never answered from the cache nor stored.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HostileCredentialFormTests {
    /// A credential form, with a key of its own (keys differ between forms, so only the form's
    /// handling decides whether two of them share answers).
    struct Form: Sendable, CustomTestStringConvertible {
        let name: String
        let headers: [(String, String)]
        var testDescription: String { name }
    }

    static let forms: [Form] = [
        Form(name: "Authorization: Bearer", headers: [("Authorization", "Bearer sk-form-bearer")]),
        Form(name: "Authorization: Basic", headers: [("Authorization", "Basic " + Data("user:sk-form-basic".utf8).base64EncodedString())]),
        Form(name: "bare Authorization", headers: [("Authorization", "sk-form-bare")]),
        Form(name: "Authorization: Bearer<TAB>", headers: [("Authorization", "Bearer\tsk-form-tab")]),
        Form(name: "x-api-key", headers: [("x-api-key", "sk-form-x-api-key")]),
        Form(name: "api-key", headers: [("api-key", "sk-form-api-key")]),
        Form(name: "another x-api-key", headers: [("x-api-key", "sk-form-x-api-key-2")]),
        Form(name: "no credential", headers: []),
    ]

    @Test(arguments: forms)
    func answerStoredForOneCredentialFormIsNeverServedToAnother(_ owner: Form) async throws {
        try await withMockAndReprise { _, proxy in
            let question = Chat.freshQuestion("isolation")
            let marker = "OWNER-\(UUID().uuidString)"
            let seeded = try await ask(proxy, question, owner.headers + [("X-Mock-Marker", marker)])
            #expect(seeded.status == 200)
            #expect(seeded.text.contains(marker))
            for other in Self.forms where other.name != owner.name {
                let answer = try await ask(proxy, question, other.headers)
                #expect(answer.status == 200)
                #expect(!answer.text.contains(marker), "\(other.name) was served the answer stored for \(owner.name)")
                #expect(answer.cacheStatus != "HIT", "\(other.name) got a HIT on a question only other credential forms asked (after \(owner.name))")
            }
        }
    }

    @Test func requestWithoutCredentialIsNeitherAnsweredFromTheCacheNorStored() async throws {
        try await withMockAndReprise { mock, proxy in
            let question = Chat.freshQuestion("anonymous")
            let first = try await ask(proxy, question, [])
            let second = try await ask(proxy, question, [])
            #expect(first.status == 200)
            #expect(first.cacheStatus == "BYPASS")
            #expect(second.cacheStatus == "BYPASS")
            #expect(try await mock.stats().requests == 2)
        }
    }

    @Test func anonymousCacheSettingSharesAnswersBetweenRequestsWithoutCredential() async throws {
        let yaml = """
            cache:
              anonymous: cache

            """
        try await withMockAndReprise(yaml: yaml) { mock, proxy in
            let question = Chat.freshQuestion("anonymous-shared")
            let first = try await ask(proxy, question, [])
            let second = try await ask(proxy, question, [])
            let upstreamCalls = try await mock.stats().requests
            #expect(first.cacheStatus == "MISS")
            #expect(second.cacheStatus == "HIT")
            #expect(upstreamCalls == 1)
        }
    }

    private func ask(_ proxy: RepriseProcess, _ question: String, _ headers: [(String, String)]) async throws -> TestHTTPResponse {
        try await TestHTTP.send(.POST, proxy.url("/v1/chat/completions"), headers: headers, body: Chat.body(question))
    }
}
