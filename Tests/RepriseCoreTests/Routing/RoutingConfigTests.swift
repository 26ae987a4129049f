import Foundation
import RepriseCrypto
import Testing
@testable import RepriseCore

@Suite("Routing configuration")
struct RoutingConfigTests {
    func problems(_ yaml: String) -> [String] {
        do {
            _ = try ConfigLoader.parse(yaml: yaml)
            return []
        } catch let error as ConfigFileError {
            return error.problems.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func theCanaryExampleIsValid() throws {
        let file = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/examples/canary.yaml").path
        let config = try ConfigLoader.load(file: file, environment: [:])
        let route = try #require(config.routing.routes.first)
        #expect(route.name == "chat" && route.models == ["deepseek-chat"])
        #expect(route.variants.map(\.basisPoints) == [5000, 5000])
        #expect(route.variants[1].upstream == "canary" && route.variants[1].model == "deepseek-reasoner")
        #expect(route.rollbackGuard.enabled)
        #expect(route.stickyBy == .header("x-user-id"))
        #expect(config.upstreams["canary"] != nil)
    }

    @Test func withoutRoutingNothingChanges() throws {
        let config = try ConfigLoader.parse(yaml: "server: {threads: 1}")
        #expect(config.routing.routes.isEmpty && config.upstreams.isEmpty)
        #expect(RoutingTable(config.routing).isEmpty)
    }

    @Test func problemsNameTheirKeys() {
        let found = problems("""
            upstreams:
              canary: {url: "http://127.0.0.1:1", connect_timeout: 0s}
            routing:
              sticky_by: cookie
              routes:
                - name: chat
                  variants:
                    - {name: stable, weight: 90}
                    - {name: stable, upstream: nowhere, weight: 20}
                  rollback_guard: {enabled: true, min_requests: 0}
            """)
        #expect(found.contains { $0.hasPrefix("routing.sticky_by:") }, "\(found)")
        let more = problems("""
            upstreams:
              canary: {url: "http://127.0.0.1:1", connect_timeout: 0s}
            routing:
              routes:
                - name: chat
                  variants:
                    - {name: stable, weight: 90}
                    - {name: stable, upstream: nowhere, weight: 20}
                  rollback_guard: {enabled: true, min_requests: 0}
                - name: chat
                  variants: [{name: a, weight: 100, colour: red}]
            """)
        #expect(more.contains { $0.hasPrefix("routing.routes[1].variants[0].colour: unknown key") }, "\(more)")
        let valueProblems = problems("""
            upstreams:
              canary: {url: "http://127.0.0.1:1", connect_timeout: 0s}
            routing:
              routes:
                - name: chat
                  variants:
                    - {name: stable, weight: 90}
                    - {name: stable, upstream: nowhere, weight: 20}
                  rollback_guard: {enabled: true, min_requests: 0}
                - name: chat
                  variants: [{name: a, weight: 100}]
            """)
        for expected in [
            "upstreams.canary.connect_timeout:", "routing.routes[0].variants[1].name: 'stable' is used twice",
            "routing.routes[0].variants[1].upstream: 'nowhere' is not an upstream", "routing.routes[0].variants: weights must add up to 100",
            "routing.routes[0].rollback_guard.min_requests:", "routing.routes[1].name: 'chat' is used twice",
        ] {
            #expect(valueProblems.contains { $0.hasPrefix(expected) }, "missing \(expected) in \(valueProblems)")
        }
    }

    @Test func routesMatchPathAndModelFirstMatchWins() throws {
        let config = try ConfigLoader.parse(yaml: """
            routing:
              routes:
                - name: reasoner
                  paths: [/v1/chat/completions]
                  models: [deepseek-reasoner]
                  variants: [{name: a, weight: 100}]
                - name: chat
                  paths: [/v1/chat/completions, /v1/completions]
                  variants: [{name: a, weight: 100}]
                - name: rest
                  variants: [{name: a, weight: 100}]
            """)
        let table = RoutingTable(config.routing)
        #expect(table.matchesModels)
        #expect(table.match(normalizedPath: CachePath.normalize("/v1/chat/completions"), model: "deepseek-reasoner") == 0)
        #expect(table.match(normalizedPath: CachePath.normalize("/v1/chat/completions"), model: "deepseek-chat") == 1)
        #expect(table.match(normalizedPath: CachePath.normalize("/v1/chat/completions"), model: nil) == 1)
        #expect(table.match(normalizedPath: CachePath.normalize("/v1/embeddings"), model: "x") == 2)
    }

    @Test func forcedVariantCredentialsKeepHashesAndCompareThem() {
        let hashOfSecret = "sha256:" + SHA256TestVector.hex("tester-key-2")
        let allowed = ForcedVariantCredentials(configured: ["tester-key-1", hashOfSecret])
        #expect(allowed.allows(credential: "tester-key-1"))
        #expect(allowed.allows(credential: "tester-key-2"))
        #expect(!allowed.allows(credential: "tester-key-3"))
        #expect(!allowed.allows(credential: ""))
        #expect(!ForcedVariantCredentials(configured: []).allows(credential: "tester-key-1"))
        let headers = [("Authorization", "Bearer  tester-key-1 "), ("X-Other", "v")]
        #expect(ForcedVariantCredentials.credential { visit in for (name, value) in headers { visit(name, value) } } == "tester-key-1")
        #expect(ForcedVariantCredentials.credential { visit in visit("api-key", "k") } == "k")
        #expect(ForcedVariantCredentials.credential { visit in visit("x-team", "k") } == nil)
    }

    /// `sha256:` takes 64 hex digits and nothing else: `UInt8(_:radix:)` read "+f" as a digit pair.
    @Test func aForcedVariantDigestIsStrictHex() {
        let digits = SHA256TestVector.hex("tester-key-2")
        #expect(ForcedVariantCredentials.hash(configured: "sha256:" + digits) != nil)
        #expect(ForcedVariantCredentials.hash(configured: "sha256:" + digits.uppercased()) != nil)
        #expect(ForcedVariantCredentials.hash(configured: "sha256:" + String(repeating: "+f", count: 32)) == nil)
        #expect(ForcedVariantCredentials.hash(configured: "sha256:" + String(repeating: "g", count: 64)) == nil)
        #expect(ForcedVariantCredentials.hash(configured: "sha256:" + digits.dropLast(2)) == nil)
    }

    @Test func stickyIdentitiesParse() {
        #expect(StickyIdentity(parsing: "credential") == .credential)
        #expect(StickyIdentity(parsing: "Header:X-User-Id") == .header("x-user-id"))
        #expect(StickyIdentity(parsing: "body:user") == .bodyUser)
        for bad in ["", "header:", "cookie", "body:name", "header:a b"] {
            #expect(StickyIdentity(parsing: bad) == nil, "\(bad)")
        }
    }
}


enum SHA256TestVector {
    static func hex(_ text: String) -> String { SHA256Hasher.hash(text.utf8).hexString }
}
