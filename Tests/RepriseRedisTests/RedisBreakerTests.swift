import NIOCore
import Testing
import RepriseRedis

/// The breaker as a trace of events and actions, on a fake clock.
@Suite("RedisBreaker state machine")
struct RedisBreakerTests {
    /// A fake clock: deadlines built from a fixed origin, moved by hand.
    struct FakeClock {
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        mutating func advance(_ amount: TimeAmount) { now = now + amount }
    }

    @Test func opensAfterConsecutiveFailuresAndRecoversThroughAProbe() {
        var clock = FakeClock()
        var breaker = RedisBreaker(configuration: .init(failureThreshold: 3, probeInterval: .seconds(1)))
        #expect(breaker.decide() == .send)
        #expect(breaker.commandFailed(now: clock.now) == .none)
        #expect(breaker.commandFailed(now: clock.now) == .none)
        #expect(breaker.state == .closed(consecutiveFailures: 2))
        let probeAt = clock.now + .seconds(1)
        #expect(breaker.commandFailed(now: clock.now) == .opened(afterFailures: 3, probeAt: probeAt))
        #expect(breaker.decide() == .skip)

        // A timer firing early reschedules; on time it sends one probe.
        clock.advance(.milliseconds(500))
        #expect(breaker.probeTimerFired(now: clock.now) == .scheduleProbe(at: probeAt))
        clock.advance(.milliseconds(500))
        #expect(breaker.probeTimerFired(now: clock.now) == .sendProbe)
        #expect(breaker.state == .probing)
        #expect(breaker.decide() == .skip)
        #expect(breaker.probeTimerFired(now: clock.now) == .none)

        // Probe fails: open again for another interval.
        #expect(breaker.probeFailed(now: clock.now) == .scheduleProbe(at: clock.now + .seconds(1)))
        clock.advance(.seconds(1))
        #expect(breaker.probeTimerFired(now: clock.now) == .sendProbe)
        #expect(breaker.probeSucceeded() == .recovered)
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        #expect(breaker.decide() == .send)
    }

    @Test func aSuccessResetsTheFailureCount() {
        let clock = FakeClock()
        var breaker = RedisBreaker(configuration: .init(failureThreshold: 2))
        _ = breaker.commandFailed(now: clock.now)
        _ = breaker.commandSucceeded()
        #expect(breaker.commandFailed(now: clock.now) == .none)
        #expect(breaker.state == .closed(consecutiveFailures: 1))
    }

    @Test func lateResultsWhileOpenChangeNothing() {
        let clock = FakeClock()
        var breaker = RedisBreaker(configuration: .init(failureThreshold: 1, probeInterval: .seconds(1)))
        _ = breaker.commandFailed(now: clock.now)
        let open = breaker.state
        #expect(breaker.commandSucceeded() == .none)
        #expect(breaker.commandFailed(now: clock.now) == .none)
        #expect(breaker.probeSucceeded() == .none)
        #expect(breaker.state == open)
    }
}
