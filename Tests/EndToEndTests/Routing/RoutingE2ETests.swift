import Foundation
import Testing

@Suite("Routing: variants end to end", .serialized)
struct RoutingE2ETests {
    let users = (0 ..< 40).map { "user-\($0)" }

    /// 50/50 by X-User-Id: both variants serve, each user keeps its variant, the response
    /// names it, the canary's upstream gets the rewritten model, and each mock saw exactly the
    /// requests of its variant.
    @Test func variantsSplitStickToUsersAndRewriteTheModel() async throws {
        try await withRoutingBed { bed in
            let proxy = try await bed.start(yaml: bed.yaml(canaryWeight: 50))
            let first = try await Routed.variants(proxy, users: users)
            let second = try await Routed.variants(proxy, users: users)
            #expect(first == second, "a user changed variant between two requests")
            let canaryUsers = first.values.filter { $0 == "canary" }.count
            #expect((8 ... 32).contains(canaryUsers), "\(canaryUsers) of 40 users on the canary at 50%")
            #expect(first.values.allSatisfy { $0 == "stable" || $0 == "canary" })
            #expect(try await bed.canary.stats().requests == 2 * canaryUsers)
            #expect(try await bed.stable.stats().requests == 2 * (40 - canaryUsers))

            let canaryUser = try #require(first.first { $0.value == "canary" }?.key)
            _ = try await Routed.chat(proxy, user: canaryUser, question: "rewrite me")
            let seen = try #require(try await bed.canary.lastRequest())
            #expect(seen.body.contains(#""model":"deepseek-reasoner""#), "\(seen.body)")
            #expect(seen.body.contains("rewrite me"))
            #expect(seen.headers["x-reprise-variant"] == nil)
            let stableUser = try #require(first.first { $0.value == "stable" }?.key)
            _ = try await Routed.chat(proxy, user: stableUser, question: "keep me")
            #expect(try #require(try await bed.stable.lastRequest()).body.contains(#""model":"deepseek-chat""#))

            let samples = try await Routed.metrics(proxy)
            #expect(samples.value("llm_requests_total", ["route": "chat", "variant": "canary"]) >= Double(2 * canaryUsers))
            #expect(samples.value("llm_requests_total", ["route": "chat", "variant": "stable"]) >= Double(2 * (40 - canaryUsers)))
            #expect(samples.value("llm_variant_weight", ["route": "chat", "variant": "canary"]) == 50)
            #expect(samples.contains { $0.name == "llm_rollback_guard_trips_total" && $0.labels["variant"] == "canary" })
        }
    }

    /// Two users on different variants asking the same question with the same key: two upstream
    /// calls (one per variant), then each variant's answer from the cache for its own users only.
    @Test func cacheEntriesAreNeverSharedBetweenVariants() async throws {
        try await withRoutingBed { bed in
            let proxy = try await bed.start(yaml: bed.yaml(canaryWeight: 50))
            let assigned = try await Routed.variants(proxy, users: users)
            let stableUser = try #require(assigned.first { $0.value == "stable" }?.key)
            let canaryUser = try #require(assigned.first { $0.value == "canary" }?.key)
            let otherStable = try #require(assigned.first { $0.value == "stable" && $0.key != stableUser }?.key)
            let question = "shared question \(UUID().uuidString)"

            let a = try await Routed.chat(proxy, user: stableUser, question: question)
            let b = try await Routed.chat(proxy, user: canaryUser, question: question)
            #expect(a.headers.first(name: "x-cache") == "MISS")
            #expect(b.headers.first(name: "x-cache") == "MISS", "the canary user got the stable variant's cached answer")
            #expect(try a.json()["model"] as? String == "deepseek-chat")
            #expect(try b.json()["model"] as? String == "deepseek-reasoner")
            let c = try await Routed.chat(proxy, user: otherStable, question: question)
            let d = try await Routed.chat(proxy, user: canaryUser, question: question)
            #expect(c.headers.first(name: "x-cache") == "HIT" && c.headers.first(name: "x-reprise-variant") == "stable")
            #expect(try c.json()["model"] as? String == "deepseek-chat")
            #expect(d.headers.first(name: "x-cache") == "HIT" && d.headers.first(name: "x-reprise-variant") == "canary")
            #expect(try d.json()["model"] as? String == "deepseek-reasoner")
        }
    }

    /// `X-Reprise-Variant` forces a variant for a configured credential only.
    @Test func onlyConfiguredCredentialsMayForceAVariant() async throws {
        try await withRoutingBed { bed in
            let proxy = try await bed.start(yaml: bed.yaml(canaryWeight: 0))
            let forced = try await Routed.chat(proxy, user: "u1", key: RoutingBed.testerKey, headers: [("X-Reprise-Variant", "canary")])
            #expect(forced.status == 200)
            #expect(forced.headers.first(name: "x-reprise-variant") == "canary")
            #expect(try await bed.canary.stats().requests == 1)
            let refused = try await Routed.chat(proxy, user: "u1", key: "sk-someone-else", headers: [("X-Reprise-Variant", "canary")])
            #expect(refused.headers.first(name: "x-reprise-variant") == "stable")
            #expect(try await bed.canary.stats().requests == 1)
        }
    }

    /// A request no route matches behaves as without routes: no variant header, default labels.
    @Test func aRoutedRequestIsInProgressUnderItsRoute() async throws {
        try await withRoutingBed { bed in
            let proxy = try await bed.start(yaml: bed.yaml(canaryWeight: 0))
            // Held 1.5 s by the upstream: counted in progress meanwhile, under `chat`, not `default`.
            async let slow = Routed.chat(proxy, user: "u-slow", question: "slow \(UUID().uuidString)", headers: [("X-Mock-Latency-Ms", "1500")])
            let during = try await Routed.eventually({ try await Routed.metrics(proxy) }) {
                $0.value("llm_active_requests", ["route": "chat"]) == 1
            }
            #expect(during.value("llm_active_requests", ["route": "chat"]) == 1)
            #expect(during.value("llm_active_requests", ["route": "default"]) == 0)
            #expect(try await slow.status == 200)
            let after = try await Routed.metrics(proxy)
            #expect(after.value("llm_active_requests", ["route": "chat"]) == 0)
            #expect(after.value("llm_active_requests", ["route": "default"]) == 0)
        }
    }

    @Test func unmatchedRequestsAreUnrouted() async throws {
        try await withRoutingBed { bed in
            let proxy = try await bed.start(yaml: bed.yaml(canaryWeight: 100))
            let response = try await TestHTTP.send(
                .POST, proxy.url("/v1/chat/completions"), headers: [("Authorization", "Bearer sk-x")],
                body: #"{"model":"other-model","messages":[{"role":"user","content":"hi"}]}"#)
            #expect(response.status == 200)
            #expect(response.headers.first(name: "x-reprise-variant") == nil)
            #expect(try await bed.canary.stats().requests == 0)
            let samples = try await Routed.metrics(proxy)
            #expect(samples.value("llm_requests_total", ["route": "default", "variant": "primary"]) == 1)
        }
    }
}
