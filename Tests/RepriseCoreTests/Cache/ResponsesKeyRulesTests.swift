import Testing
@testable import RepriseCore

@Suite struct ResponsesKeyRulesTests {
    static let scope = CacheScope(namespace: "ns1", route: "responses", variant: "primary", method: "POST", target: "/v1/responses")
    let policy = CachePolicy()

    func result(_ body: String) throws -> CacheKeyResult {
        try CacheKeyBuilder().key(scope: Self.scope, body: Array(body.utf8))
    }

    @Test func fieldsThatDoNotChangeTheAnswerAreLeftOut() throws {
        let plain = try result(#"{"model":"gpt-5-mini","input":"Hi","temperature":0}"#)
        let noisy = try result(#"""
        {"input":"Hi","stream":true,"stream_options":{"include_obfuscation":false},"user":"u-1","safety_identifier":"hash-42",
         "prompt_cache_key":"tenant-7","metadata":{"trace":"abc"},"store":false,"service_tier":"auto","temperature":0,"model":"gpt-5-mini"}
        """#)
        #expect(plain.key == noisy.key)
    }

    @Test func previousResponseIdIsPartOfTheQuestion() throws {
        let first = try result(#"{"model":"gpt-5-mini","input":"And then?","previous_response_id":"resp_1"}"#)
        let second = try result(#"{"model":"gpt-5-mini","input":"And then?","previous_response_id":"resp_2"}"#)
        let none = try result(#"{"model":"gpt-5-mini","input":"And then?"}"#)
        #expect(first.key != second.key && first.key != none.key)
        #expect(!first.facts.dependsOnServerState)
        #expect(!CacheDecision.decide(policy: policy, cacheControl: .init(), ttlHeader: nil, facts: first.facts, generation: true).isBypass)
    }

    @Test func conversationAndBackgroundAreBypassed() throws {
        for body in [#"{"model":"m","input":"Hi","conversation":"conv_1"}"#,
                     #"{"model":"m","input":"Hi","conversation":{"id":"conv_1"}}"#,
                     #"{"model":"m","input":"Hi","background":true}"#,
                     #"{"model":"m","input":"Hi","background":true,"conversation":null}"#] {
            let facts = try result(body).facts
            #expect(facts.dependsOnServerState, "\(body)")
            let decision = CacheDecision.decide(policy: policy, cacheControl: .init(), ttlHeader: nil, facts: facts, generation: true)
            #expect(decision.isBypass && decision.reasons == [.serverState], "\(body)")
            #expect(CacheDecision.Reason.serverState.rawValue == "server-state")
        }
        for body in [#"{"model":"m","input":"Hi","conversation":null}"#,
                     #"{"model":"m","input":"Hi","background":false}"#,
                     #"{"model":"m","input":[{"role":"user","content":"Hi","conversation":"c","background":true}]}"#,
                     #"{"model":"m","input":"Hi","metadata":{"background":true}}"#] {
            let facts = try result(body).facts
            #expect(!facts.dependsOnServerState, "\(body)")
            #expect(!CacheDecision.decide(policy: policy, cacheControl: .init(), ttlHeader: nil, facts: facts, generation: true).isBypass)
        }
    }

    @Test func ignoredDefaultsIncludeTheResponsesAPIsHints() {
        let ignored = Set(JSONCanonicalizer.defaultIgnoredTopLevelFields)
        #expect(ignored.isSuperset(of: ["stream", "stream_options", "user", "metadata", "store", "safety_identifier", "prompt_cache_key"]))
        #expect(!ignored.contains("previous_response_id") && !ignored.contains("conversation") && !ignored.contains("background"))
    }
}
