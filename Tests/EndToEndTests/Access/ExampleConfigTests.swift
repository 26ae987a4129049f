import Foundation
import Testing

/// `config/examples/keys.yaml` and `encrypted-redis.yaml` pass `reprise check-config` with
/// their secrets in the environment, and name the missing setting without them.
@Suite struct ExampleConfigTests {
    static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Access
        .deletingLastPathComponent()  // EndToEndTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()
        .appendingPathComponent("config/examples")

    func check(_ name: String, environment: [String: String]) async throws -> (code: Int32, stdout: String, stderr: String) {
        // Without the caller's own values of the variables the examples read.
        var clean = environment
        for variable in ["DEEPSEEK_API_KEY", "REPRISE_CACHE_KEY", "REPRISE_ADMIN_TOKEN"] where clean[variable] == nil { clean[variable] = "" }
        let path = Self.examples.appendingPathComponent(name).path
        let process = try ManagedProcess(executable: try TestBinaries.reprise, arguments: ["check-config", path], environment: clean)
        let code = try await process.waitForExit(timeout: .seconds(30))
        return (code, process.stdout, process.stderr)
    }

    @Test func keysExampleIsAccepted() async throws {
        let result = try await check("keys.yaml", environment: ["DEEPSEEK_API_KEY": "sk-example-upstream"])
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.contains("OK"))
        let missing = try await check("keys.yaml", environment: [:])
        #expect(missing.code == 78)
        #expect(missing.stderr.contains("auth.upstream_key"), "\(missing.stderr)")
    }

    @Test func encryptedRedisExampleIsAccepted() async throws {
        let key = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let result = try await check("encrypted-redis.yaml", environment: ["REPRISE_CACHE_KEY": key])
        #expect(result.code == 0, "\(result.stderr)")
        let missing = try await check("encrypted-redis.yaml", environment: [:])
        #expect(missing.code == 78)
        #expect(missing.stderr.contains("cache.encryption_key"), "\(missing.stderr)")
        #expect(!missing.stderr.contains(key))
    }
}
