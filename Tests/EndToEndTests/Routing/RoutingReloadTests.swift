import Foundation
import Testing

@Suite("Routing: hot reload", .serialized)
struct RoutingReloadTests {
    func canaryShare(_ proxy: RepriseProcess) async throws -> Int {
        let seen = try await Routed.variants(proxy, users: (0 ..< 10).map { "reload-user-\($0)" })
        return seen.values.filter { $0 == "canary" }.count
    }

    func reloads(_ proxy: RepriseProcess, _ result: String) async throws -> Double {
        try await Routed.metrics(proxy).value("llm_config_reloads_total", ["result": result])
    }

    /// A Kubernetes ConfigMap volume: `reprise.yaml -> ..data/reprise.yaml`, `..data -> ..v1`;
    /// an update writes `..v2` and swaps `..data` in one rename.
    @Test func aConfigMapStyleSymlinkSwapIsPickedUp() async throws {
        try await withRoutingBed { bed in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-configmap-\(UUID().uuidString)").path
            let fm = FileManager.default
            try fm.createDirectory(atPath: directory + "/..v1", withIntermediateDirectories: true)
            try bed.yaml(canaryWeight: 0, routingExtra: "  watch_interval: 200ms").write(toFile: directory + "/..v1/reprise.yaml", atomically: true, encoding: .utf8)
            try fm.createSymbolicLink(atPath: directory + "/..data", withDestinationPath: "..v1")
            try fm.createSymbolicLink(atPath: directory + "/reprise.yaml", withDestinationPath: "..data/reprise.yaml")
            let proxy = try await bed.start(configPath: directory + "/reprise.yaml")
            #expect(try await canaryShare(proxy) == 0)

            try fm.createDirectory(atPath: directory + "/..v2", withIntermediateDirectories: true)
            try bed.yaml(canaryWeight: 100, routingExtra: "  watch_interval: 200ms").write(toFile: directory + "/..v2/reprise.yaml", atomically: true, encoding: .utf8)
            try fm.createSymbolicLink(atPath: directory + "/..data_tmp", withDestinationPath: "..v2")
            #expect(rename(directory + "/..data_tmp", directory + "/..data") == 0)
            let share = try await Routed.eventually({ try await canaryShare(proxy) }, until: { $0 == 10 })
            #expect(share == 10, "the swapped configuration was not applied")
            #expect(try await reloads(proxy, "success") >= 1)
            #expect(proxy.process.stderr.contains("configuration reloaded"))
        }
    }

    /// With watching off, SIGHUP reloads; an invalid file is rejected (logged, counted) and the
    /// routing in force stays; a valid one after it applies again. Connections stay open.
    @Test func sighupReloadsAndAnInvalidFileIsRejected() async throws {
        try await withRoutingBed { bed in
            let proxy = try await bed.start(yaml: bed.yaml(canaryWeight: 0, routingExtra: "  watch_interval: 0s"))
            let connection = try proxy.connect()
            #expect(try await canaryShare(proxy) == 0)

            try bed.yaml(canaryWeight: 100, routingExtra: "  watch_interval: 0s").write(toFile: proxy.configPath, atomically: true, encoding: .utf8)
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await canaryShare(proxy) == 0, "applied without SIGHUP while watching is off")
            proxy.process.kill(signal: SIGHUP)
            #expect(try await Routed.eventually({ try await canaryShare(proxy) }, until: { $0 == 10 }) == 10)

            // Weights adding up to 90, and an upstream the process did not start with: rejected.
            let invalid = bed.yaml(canaryWeight: 100, routingExtra: "  watch_interval: 0s")
                .replacingOccurrences(of: "weight: 0.0}", with: "weight: -10}")
            try invalid.write(toFile: proxy.configPath, atomically: true, encoding: .utf8)
            proxy.process.kill(signal: SIGHUP)
            #expect(try await Routed.eventually({ try await reloads(proxy, "failure") }, until: { $0 >= 1 }) == 1)
            #expect(proxy.process.stderr.contains("configuration reload rejected"))
            #expect(proxy.process.stderr.contains("routing.routes[0].variants[0].weight"))
            #expect(try await canaryShare(proxy) == 10, "the rejected file changed the routing")

            let unknownUpstream = bed.yaml(canaryWeight: 100, routingExtra: "  watch_interval: 0s")
                .replacingOccurrences(of: "upstream: canary,", with: "upstream: newcomer,")
                .replacingOccurrences(of: "  canary:\n", with: "  newcomer:\n")
            try unknownUpstream.write(toFile: proxy.configPath, atomically: true, encoding: .utf8)
            proxy.process.kill(signal: SIGHUP)
            #expect(try await Routed.eventually({ try await reloads(proxy, "failure") }, until: { $0 >= 2 }) == 2)
            #expect(proxy.process.stderr.contains("was not an upstream at start"))
            #expect(try await canaryShare(proxy) == 10)

            // The connection opened before the reloads still serves.
            try connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try connection.readResponse().status == 200)
        }
    }
}
