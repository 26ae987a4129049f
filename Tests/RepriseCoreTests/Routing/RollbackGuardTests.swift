import Testing
@testable import RepriseCore

@Suite("Rollback guard")
struct RollbackGuardTests {
    static let second: UInt64 = 1_000_000_000

    func config(minRequests: Int = 50, zScore: Double = 3) -> RollbackGuardConfig {
        var config = RollbackGuardConfig()
        config.enabled = true
        config.window = .seconds(60)
        config.minRequests = minRequests
        config.errorRatio = 2
        config.minErrorRateIncrease = 0.05
        config.minZScore = zScore
        return config
    }

    /// Feeds `count` requests of `variant`, `errors` of them failed (spread evenly), at `now`; the actions.
    func feed(_ machine: inout RollbackGuardStateMachine, variant: Int, count: Int, errors: Int, now: UInt64) -> [RollbackGuardStateMachine.Action] {
        (0 ..< count).map { index in
            machine.requestEnded(variant: variant, isError: (index + 1) * errors / count != index * errors / count, now: now)
        }.filter { $0 != .none }
    }

    @Test func tripsOnACanaryFailingFarMoreThanStable() {
        var machine = RollbackGuardStateMachine(config: config(), variantCount: 2)
        #expect(feed(&machine, variant: 0, count: 100, errors: 2, now: 10 * Self.second).isEmpty)
        // 30 of 49 failed: not yet min_requests.
        #expect(feed(&machine, variant: 1, count: 49, errors: 30, now: 11 * Self.second).isEmpty)
        let actions = feed(&machine, variant: 1, count: 1, errors: 1, now: 11 * Self.second)
        guard case .trip(let variant, let evidence)? = actions.first else {
            Issue.record("no trip: \(actions)")
            return
        }
        #expect(variant == 1)
        #expect(evidence.variantRequests == 50 && evidence.variantErrors == 31 && evidence.stableErrors == 2)
        #expect(machine.isTripped(variant: 1))
        // Tripped stays tripped, and further events are not counted or reported again.
        #expect(feed(&machine, variant: 1, count: 100, errors: 0, now: 12 * Self.second).isEmpty)
        #expect(machine.isTripped(variant: 1))
    }

    @Test func equalErrorRatesNeverTrip() {
        var machine = RollbackGuardStateMachine(config: config(), variantCount: 2)
        #expect(feed(&machine, variant: 0, count: 500, errors: 100, now: Self.second).isEmpty)
        #expect(feed(&machine, variant: 1, count: 500, errors: 100, now: Self.second).isEmpty)
    }

    @Test func aStableVariantWithoutErrorsNeedsTheAbsoluteIncreaseToo() {
        var machine = RollbackGuardStateMachine(config: config(), variantCount: 2)
        _ = feed(&machine, variant: 0, count: 1000, errors: 0, now: Self.second)
        // 2% against 0%: an infinite ratio, but under the 5-point floor.
        #expect(feed(&machine, variant: 1, count: 1000, errors: 20, now: Self.second).isEmpty)
    }

    @Test func theStableVariantItselfNeverTrips() {
        var machine = RollbackGuardStateMachine(config: config(), variantCount: 2)
        _ = feed(&machine, variant: 1, count: 100, errors: 0, now: Self.second)
        #expect(feed(&machine, variant: 0, count: 100, errors: 100, now: Self.second).isEmpty)
    }

    @Test func errorsOlderThanTheWindowAreForgotten() {
        var machine = RollbackGuardStateMachine(config: config(), variantCount: 2)
        _ = feed(&machine, variant: 0, count: 100, errors: 0, now: 0)
        _ = feed(&machine, variant: 1, count: 40, errors: 40, now: 0)
        // 70 s later the failures left the window: 60 clean canary requests do not trip.
        _ = feed(&machine, variant: 0, count: 100, errors: 0, now: 70 * Self.second)
        #expect(feed(&machine, variant: 1, count: 60, errors: 0, now: 70 * Self.second).isEmpty)
        // Within the window they would have: 40 failed + 10 more.
        var inWindow = RollbackGuardStateMachine(config: config(), variantCount: 2)
        _ = feed(&inWindow, variant: 0, count: 100, errors: 0, now: 0)
        _ = feed(&inWindow, variant: 1, count: 40, errors: 40, now: 0)
        #expect(!feed(&inWindow, variant: 1, count: 10, errors: 0, now: 30 * Self.second).isEmpty)
    }

    @Test func resetWatchesAgainFromAnEmptyWindow() {
        var machine = RollbackGuardStateMachine(config: config(), variantCount: 2)
        _ = feed(&machine, variant: 0, count: 100, errors: 0, now: Self.second)
        #expect(!feed(&machine, variant: 1, count: 60, errors: 60, now: Self.second).isEmpty)
        machine.reset(variant: 1)
        #expect(machine.states[1] == .watching)
        // The failures before the reset do not count: 50 clean requests do not trip it.
        #expect(feed(&machine, variant: 1, count: 50, errors: 0, now: 2 * Self.second).isEmpty)
    }

    @Test func aDisabledGuardDecidesNothing() {
        var off = config()
        off.enabled = false
        var machine = RollbackGuardStateMachine(config: off, variantCount: 2)
        _ = feed(&machine, variant: 0, count: 100, errors: 0, now: Self.second)
        #expect(feed(&machine, variant: 1, count: 100, errors: 100, now: Self.second).isEmpty)
    }
}

@Suite("Rollback guard: latency")
struct RollbackGuardLatencyTests {
    static let ms: UInt64 = 1_000_000

    func config(latencyRatio: Double) -> RollbackGuardConfig {
        var config = RollbackGuardConfig()
        config.enabled = true
        config.minRequests = 50
        config.latencyRatio = latencyRatio
        config.minLatencyIncrease = .seconds(1)
        return config
    }

    func feed(_ machine: inout RollbackGuardStateMachine, variant: Int, count: Int, latencyMs: UInt64, now: UInt64 = 1_000_000_000) -> [RollbackGuardStateMachine.Action] {
        (0 ..< count).map { _ in machine.requestEnded(variant: variant, isError: false, latencyNanoseconds: latencyMs * Self.ms, now: now) }
            .filter { $0 != .none }
    }

    @Test func tripsWhenTheVariantsP95IsAMultipleAndSecondsLonger() {
        var machine = RollbackGuardStateMachine(config: config(latencyRatio: 2), variantCount: 2)
        _ = feed(&machine, variant: 0, count: 100, latencyMs: 800)
        #expect(feed(&machine, variant: 1, count: 49, latencyMs: 4000).isEmpty)
        let actions = feed(&machine, variant: 1, count: 1, latencyMs: 4000)
        guard case .trip(1, let evidence)? = actions.first, let p95 = evidence.p95Nanoseconds else {
            Issue.record("no latency trip: \(actions)")
            return
        }
        #expect(p95.variant >= 4000 * Self.ms && p95.variant <= 5000 * Self.ms)
        #expect(p95.stable >= 800 * Self.ms && p95.stable <= 1000 * Self.ms)
        #expect(evidence.description.hasPrefix("p95 time to first byte"))
    }

    @Test func aMultipleUnderTheAbsoluteIncreaseDoesNotTrip() {
        var machine = RollbackGuardStateMachine(config: config(latencyRatio: 2), variantCount: 2)
        _ = feed(&machine, variant: 0, count: 100, latencyMs: 100)
        // 5x slower, but only 400 ms more.
        #expect(feed(&machine, variant: 1, count: 100, latencyMs: 500).isEmpty)
    }

    @Test func latencyIsIgnoredWhenTheRatioIsZero() {
        var machine = RollbackGuardStateMachine(config: config(latencyRatio: 0), variantCount: 2)
        _ = feed(&machine, variant: 0, count: 100, latencyMs: 100)
        #expect(feed(&machine, variant: 1, count: 100, latencyMs: 60_000).isEmpty)
    }

    @Test func histogramQuantilesAreWithinOneBucket() {
        var histogram = LatencyHistogram()
        for value in 1 ... 100 { histogram.record(nanoseconds: UInt64(value) * 10 * Self.ms) }
        let p95 = histogram.quantile(0.95)!
        #expect(p95 >= 950 * Self.ms && p95 <= 950 * Self.ms * 5 / 4, "\(p95)")
        #expect(LatencyHistogram().quantile(0.95) == nil)
    }
}
