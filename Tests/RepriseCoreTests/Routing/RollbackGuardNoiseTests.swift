import Foundation
import Testing
@testable import RepriseCore

/// The guard on simulated traffic: how often it trips on a stable workload (both variants fail
/// at the same rate: every trip is a false one) and how fast on a failing canary. Seeded, so
/// the figures are reproducible: `swift test --filter RollbackGuardNoiseTests` prints them.
@Suite("Rollback guard on simulated traffic")
struct RollbackGuardNoiseTests {
    /// SplitMix64: a small seeded generator (the system one cannot be seeded).
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            return StickyBucket.finalised(state)
        }
    }

    struct Workload: Sendable, CustomStringConvertible {
        var requestsPerSecond: Int
        var canaryShare: Double
        var stableErrorRate: Double
        var canaryErrorRate: Double

        var description: String {
            "\(requestsPerSecond) req/s, canary \(Int(canaryShare * 100))%, errors \(stableErrorRate * 100)% stable / \(canaryErrorRate * 100)% canary"
        }
    }

    /// Simulates `hours` one-hour runs; per run, whether the guard tripped and after how many seconds.
    func simulate(_ workload: Workload, config: RollbackGuardConfig, hours: Int, seed: UInt64) -> [UInt64?] {
        var random = SeededGenerator(state: seed)
        return (0 ..< hours).map { _ in
            var machine = RollbackGuardStateMachine(config: config, variantCount: 2)
            for second in 0 ..< UInt64(3600) {
                for request in 0 ..< workload.requestsPerSecond {
                    let now = second * 1_000_000_000 + UInt64(request) * (1_000_000_000 / UInt64(workload.requestsPerSecond))
                    let canary = Double.random(in: 0 ..< 1, using: &random) < workload.canaryShare
                    let rate = canary ? workload.canaryErrorRate : workload.stableErrorRate
                    let failed = Double.random(in: 0 ..< 1, using: &random) < rate
                    if case .trip = machine.requestEnded(variant: canary ? 1 : 0, isError: failed, now: now) { return second }
                }
            }
            return nil
        }
    }

    var exampleConfig: RollbackGuardConfig {
        var config = RollbackGuardConfig()
        config.enabled = true  // config/examples/canary.yaml's values are the defaults
        return config
    }

    /// Simulated hours per workload: `REPRISE_GUARD_HOURS` (the report's figure used 200).
    var hours: Int { Int(ProcessInfo.processInfo.environment["REPRISE_GUARD_HOURS"] ?? "") ?? 30 }

    /// Stable workloads (both variants fail alike) at low traffic, where a window holds few
    /// requests and noise is largest: no trip at the defaults.
    @Test(arguments: [
        Workload(requestsPerSecond: 5, canaryShare: 0.5, stableErrorRate: 0.1, canaryErrorRate: 0.1),
        Workload(requestsPerSecond: 20, canaryShare: 0.1, stableErrorRate: 0.1, canaryErrorRate: 0.1),
        Workload(requestsPerSecond: 20, canaryShare: 0.1, stableErrorRate: 0.02, canaryErrorRate: 0.02),
    ])
    func noFalseTripsOnAStableWorkload(workload: Workload) {
        let trips = simulate(workload, config: exampleConfig, hours: hours, seed: 1).compactMap { $0 }
        print("rollback guard, stable workload \(workload): \(trips.count) false trips in \(hours) simulated hours")
        #expect(trips.isEmpty)
    }

    /// Without the z-test the same noise trips it: the z-test is what holds it back.
    @Test func withoutTheZTestNoiseTrips() {
        var config = exampleConfig
        config.minZScore = 0
        config.minRequests = 10
        config.minErrorRateIncrease = 0
        let workload = Workload(requestsPerSecond: 5, canaryShare: 0.5, stableErrorRate: 0.1, canaryErrorRate: 0.1)
        let trips = simulate(workload, config: config, hours: 20, seed: 1).compactMap { $0 }
        print("rollback guard without z-test/floor, min_requests 10: \(trips.count) false trips in 20 simulated hours")
        #expect(trips.count > 10)
    }

    /// Latency compared too (ratio 2, 1 s more), both variants' time to first byte log-normal
    /// around 1 s (sigma 0.6: p95 about 2.7 s): no trip on the stable workload; a canary three
    /// times as slow trips.
    @Test func latencyNoiseDoesNotTripButASlowCanaryDoes() {
        var config = exampleConfig
        config.latencyRatio = 2
        config.minLatencyIncrease = .seconds(1)
        func run(canaryScale: Double, hours: Int) -> [UInt64?] {
            var random = SeededGenerator(state: 3)
            return (0 ..< hours).map { _ in
                var machine = RollbackGuardStateMachine(config: config, variantCount: 2)
                for second in 0 ..< UInt64(3600) {
                    for request in 0 ..< 20 {
                        let canary = Double.random(in: 0 ..< 1, using: &random) < 0.1
                        // Box-Muller: a standard normal from two uniforms.
                        let u1 = Double.random(in: Double.ulpOfOne ..< 1, using: &random), u2 = Double.random(in: 0 ..< 1, using: &random)
                        let normal = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
                        let seconds = exp(0.6 * normal) * (canary ? canaryScale : 1)
                        let now = second * 1_000_000_000 + UInt64(request) * 50_000_000
                        if case .trip = machine.requestEnded(variant: canary ? 1 : 0, isError: false, latencyNanoseconds: UInt64(seconds * 1e9), now: now) {
                            return second
                        }
                    }
                }
                return nil
            }
        }
        let stableHours = max(5, hours / 4)
        let falseTrips = run(canaryScale: 1, hours: stableHours).compactMap { $0 }
        print("rollback guard, latency noise (20 req/s, canary 10%, log-normal TTFB): \(falseTrips.count) false trips in \(stableHours) simulated hours")
        #expect(falseTrips.isEmpty)
        let slow = run(canaryScale: 3, hours: 5).compactMap { $0 }
        print("rollback guard, canary 3x slower: tripped in \(slow.count)/5 runs after \(slow.min() ?? 0)-\(slow.max() ?? 0) s")
        #expect(slow.count == 5)
    }

    /// A canary failing at 30% against 2%: every run trips, within the first minute.
    @Test func tripsQuicklyOnAFailingCanary() {
        let workload = Workload(requestsPerSecond: 20, canaryShare: 0.1, stableErrorRate: 0.02, canaryErrorRate: 0.3)
        let trips = simulate(workload, config: exampleConfig, hours: 20, seed: 2)
        let seconds = trips.compactMap { $0 }
        print("rollback guard, canary 10% of 20 req/s failing at 30% vs 2%: tripped in \(seconds.count)/20 runs, after \(seconds.min() ?? 0)-\(seconds.max() ?? 0) s")
        #expect(seconds.count == 20)
        #expect(seconds.allSatisfy { $0 <= 60 })
    }
}
