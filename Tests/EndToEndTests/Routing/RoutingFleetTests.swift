import Foundation
import Testing

@Suite("Routing: fleet-wide flags and the rollback guard", .serialized)
struct RoutingFleetTests {
    func flags(_ proxy: RepriseProcess) async throws -> [String: Any] {
        let response = try await Routed.admin(.GET, proxy, "/admin/flags")
        #expect(response.status == 200, "\(response.text)")
        return try response.json()
    }

    /// The canary variant's entry of `GET /admin/flags`.
    func canaryFlag(_ proxy: RepriseProcess) async throws -> [String: Any] {
        let document = try await flags(proxy)
        let routes = document["routes"] as? [[String: Any]] ?? []
        let variants = routes.first?["variants"] as? [[String: Any]] ?? []
        return variants.first { $0["name"] as? String == "canary" } ?? [:]
    }

    /// An override PUT on one process is applied by another sharing the Redis within the poll
    /// interval; DELETE gives both the file's weight back.
    @Test func aRedisOverrideIsSeenByTwoProcesses() async throws {
        let redis = try await RedisServer.start()
        defer { Task { await redis.stop() } }
        try await withRoutingBed { bed in
            let yaml = bed.yaml(canaryWeight: 50, routingExtra: "  flags_poll_interval: 500ms",
                                top: "cache:\n  redis:\n    url: \(redis.url)")
            let a = try await bed.start(yaml: yaml)
            let b = try await bed.start(yaml: yaml)
            #expect(try await canaryFlag(b)["source"] as? String == "config")

            let put = try await Routed.admin(.PUT, a, "/admin/flags/chat/canary", body: #"{"weight": 0}"#)
            #expect(put.status == 200, "\(put.text)")
            let started = ContinuousClock.now
            let onB = try await Routed.eventually(timeout: .seconds(5), { try await canaryFlag(b) }, until: { $0["weight"] as? Double == 0 })
            let elapsed = ContinuousClock.now - started
            #expect(onB["weight"] as? Double == 0 && onB["source"] as? String == "redis", "\(onB)")
            #expect(elapsed < .seconds(2), "took \(elapsed)")
            print("override applied by the second process after \(elapsed)")
            let seen = try await Routed.variants(b, users: (0 ..< 10).map { "fleet-\($0)" })
            #expect(seen.values.allSatisfy { $0 == "stable" })
            #expect(try await redis.cli(["HGET", "reprise:flags", "chat/canary"]) == "admin:0")

            #expect(try await Routed.admin(.DELETE, b, "/admin/flags/chat/canary").status == 200)
            let back = try await Routed.eventually(timeout: .seconds(5), { try await canaryFlag(a) }, until: { $0["source"] as? String == "config" })
            #expect(back["weight"] as? Double == 50, "\(back)")

            #expect(try await Routed.admin(.PUT, a, "/admin/flags/chat/nope", body: #"{"weight": 0}"#).status == 404)
            #expect(try await Routed.admin(.PUT, a, "/admin/flags/chat/canary", body: #"{"weight": 101}"#).status == 400)
            #expect(try await TestHTTP.send(.GET, a.url("/admin/flags")).status == 401)
        }
    }

    /// A canary whose upstream answers 500 to everything, against a healthy stable one: the
    /// guard turns it off (0%), logs and counts it, the flags say so, another instance sharing
    /// the Redis turns it off too, and it stays off until an operator resets it.
    @Test func theGuardTripsOnAFailingCanaryAndStaysOffUntilReset() async throws {
        let redis = try await RedisServer.start()
        defer { Task { await redis.stop() } }
        try await withRoutingBed(canaryArguments: ["--status", "500"]) { bed in
            let guardYAML = "      rollback_guard: {enabled: true, window: 60s, min_requests: 20}"
            let yaml = bed.yaml(canaryWeight: 50, routeExtra: guardYAML, routingExtra: "  flags_poll_interval: 500ms",
                                top: "cache:\n  redis:\n    url: \(redis.url)")
            let proxy = try await bed.start(yaml: yaml)
            let other = try await bed.start(yaml: yaml)
            var statuses: [String: [Int]] = [:]
            for index in 0 ..< 120 {
                let response = try await Routed.chat(proxy, user: "guard-user-\(index)", question: "q \(index)")
                statuses[response.headers.first(name: "x-reprise-variant") ?? "none", default: []].append(response.status)
            }
            let canaryStatuses = statuses["canary"] ?? []
            #expect(canaryStatuses.count >= 20 && canaryStatuses.count < 80, "\(canaryStatuses.count) canary answers")
            #expect((statuses["stable"] ?? []).allSatisfy { $0 == 200 })
            #expect(proxy.process.stderr.contains("rollback guard tripped"))
            let samples = try await Routed.metrics(proxy)
            #expect(samples.value("llm_rollback_guard_trips_total", ["route": "chat", "variant": "canary"]) == 1)
            #expect(samples.value("llm_variant_weight", ["route": "chat", "variant": "canary"]) == 0)
            let flag = try await canaryFlag(proxy)
            #expect(flag["source"] as? String == "guard" && flag["guard"] as? String == "tripped" && flag["weight"] as? Double == 0, "\(flag)")

            let onOther = try await Routed.eventually(timeout: .seconds(5), { try await canaryFlag(other) }, until: { $0["source"] as? String == "guard" })
            #expect(onOther["weight"] as? Double == 0, "the other instance did not follow the trip: \(onOther)")
            #expect(try await redis.cli(["HGET", "reprise:flags", "chat/canary"]) == "guard:0")

            let canaryCalls = try await bed.canary.stats().requests
            let after = try await Routed.variants(proxy, users: (0 ..< 20).map { "after-trip-\($0)" })
            #expect(after.values.allSatisfy { $0 == "stable" })
            #expect(try await bed.canary.stats().requests == canaryCalls)

            #expect(try await Routed.admin(.DELETE, proxy, "/admin/flags/chat/canary").status == 200)
            let reset = try await canaryFlag(proxy)
            #expect(reset["guard"] as? String == "watching" && reset["weight"] as? Double == 50, "\(reset)")
            #expect(proxy.process.stderr.contains("rollback guard reset"))
            let otherReset = try await Routed.eventually(timeout: .seconds(5), { try await canaryFlag(other) }, until: { $0["source"] as? String == "config" })
            #expect(otherReset["weight"] as? Double == 50, "\(otherReset)")
        }
    }
}
