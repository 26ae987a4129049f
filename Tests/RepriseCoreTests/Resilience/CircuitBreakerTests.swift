import Testing
@testable import RepriseCore

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    let log = TransitionLog()

    func breaker(_ policy: CircuitBreakerPolicy) -> CircuitBreaker {
        let log = self.log
        return CircuitBreaker(name: "primary", policy: policy) { name, transition in
            #expect(name == "primary")
            log.append(transition)
        }
    }

    /// Admits one call and records `outcome`; returns false if it was rejected.
    @discardableResult
    func call(_ breaker: CircuitBreaker, _ outcome: CircuitBreakerOutcome, at now: UInt64) -> Bool {
        switch breaker.admit(now: now) {
        case .allowed(let ticket), .allowedAsProbe(let ticket):
            breaker.record(ticket, outcome: outcome, now: now)
            return true
        case .rejected:
            return false
        }
    }

    static let rateOnly = CircuitBreakerPolicy(failureRateThreshold: 0.5, minimumRequests: 10, consecutiveFailures: 0,
                                               openDurationNanoseconds: seconds(15))

    @Test func opensWhenTheFailureRateReachesTheThresholdWithEnoughCalls() {
        let breaker = breaker(Self.rateOnly)
        // s f s f … : never two failures in a row; 4 of 8, then 5 of 9: not enough calls yet.
        for index in 0..<9 {
            call(breaker, index % 2 == 0 ? .success : .failure, at: seconds(100))
        }
        #expect(breaker.state == .closed)
        #expect(log.all.isEmpty)
        call(breaker, .failure, at: seconds(100.5))
        #expect(breaker.state == .open)
        #expect(log.all.map(\.cause) == [.failureRate(failures: 5, outcomes: 10)])
        #expect(log.all.first?.from == .closed)
        #expect(log.all.first?.at == seconds(100.5))
    }

    @Test func failureRateBelowTheThresholdKeepsItClosed() {
        let breaker = breaker(Self.rateOnly)
        for index in 0..<1000 {
            call(breaker, index % 3 == 0 ? .failure : .success, at: seconds(100) + milliseconds(UInt64(index)))
        }
        #expect(breaker.state == .closed)
    }

    @Test func failuresOutsideTheWindowDoNotCount() {
        let breaker = breaker(Self.rateOnly)  // 10 s window
        for _ in 0..<5 { call(breaker, .failure, at: seconds(100)) }
        for _ in 0..<5 { call(breaker, .success, at: seconds(111)) }
        for _ in 0..<4 { call(breaker, .failure, at: seconds(111)) }
        #expect(breaker.state == .closed, "4 of 9 in the window")
        let snapshot = breaker.snapshot(now: seconds(111))
        #expect(snapshot.windowFailures == 4 && snapshot.windowSuccesses == 5)
    }

    @Test func opensOnConsecutiveFailuresAndASuccessResetsTheRun() {
        let breaker = breaker(CircuitBreakerPolicy(minimumRequests: 1000, consecutiveFailures: 3))
        for outcome in [CircuitBreakerOutcome.failure, .failure, .success, .failure, .failure] {
            call(breaker, outcome, at: seconds(100))
        }
        #expect(breaker.state == .closed)
        #expect(breaker.snapshot(now: seconds(100)).consecutiveFailures == 2)
        call(breaker, .failure, at: seconds(100))
        #expect(breaker.state == .open)
        #expect(log.all.map(\.cause) == [.consecutiveFailures(3)])
    }

    @Test func rateLimitingAndCancelledCallsAreNeitherFailureNorSuccess() {
        let breaker = breaker(CircuitBreakerPolicy(minimumRequests: 1, consecutiveFailures: 2))
        for _ in 0..<100 { call(breaker, CircuitBreakerOutcome(status: 429), at: seconds(100)) }
        #expect(breaker.state == .closed)
        call(breaker, .failure, at: seconds(100))
        call(breaker, .ignored, at: seconds(100))
        call(breaker, .failure, at: seconds(100))
        #expect(breaker.state == .open, "an ignored call does not break a run of failures")
    }

    @Test func outcomeClassification() {
        #expect([200, 201, 400, 401, 404, 422, 501].map(CircuitBreakerOutcome.init(status:)).allSatisfy { $0 == .success })
        #expect([500, 502, 503, 504].map(CircuitBreakerOutcome.init(status:)).allSatisfy { $0 == .failure })
        #expect(CircuitBreakerOutcome(status: 429) == .ignored)
        #expect(CircuitBreakerOutcome(.connectError) == .failure)
        #expect(CircuitBreakerOutcome(.timeoutBeforeFirstByte) == .failure)
        #expect(CircuitBreakerOutcome(.otherError) == .failure)
        #expect(CircuitBreakerOutcome(.status(429, retryAfter: "1")) == .ignored)
        #expect(CircuitBreakerOutcome(.status(503, retryAfter: nil)) == .failure)
    }

    static let recovery = CircuitBreakerPolicy(minimumRequests: 1000, consecutiveFailures: 1, openDurationNanoseconds: seconds(15),
                                               halfOpenMaxProbes: 3, halfOpenSuccessesToClose: 3, probeTimeoutNanoseconds: seconds(60))

    @Test func fullCycleOpenRejectHalfOpenProbesClose() {
        let breaker = breaker(Self.recovery)
        call(breaker, .failure, at: seconds(100))
        #expect(breaker.state == .open)

        // Open: fail fast with the time left.
        #expect(breaker.admit(now: seconds(106)) == .rejected(retryAfterNanoseconds: seconds(9)))
        #expect(breaker.admit(now: seconds(115) - 1) == .rejected(retryAfterNanoseconds: 1))

        // Open duration elapsed: the next call is a probe, and only three at once.
        var probes: [CircuitBreaker.Ticket] = []
        for _ in 0..<3 {
            guard case .allowedAsProbe(let ticket) = breaker.admit(now: seconds(115)) else {
                Issue.record("expected a probe")
                return
            }
            #expect(ticket.isProbe)
            probes.append(ticket)
        }
        #expect(breaker.state == .halfOpen)
        #expect(breaker.admit(now: seconds(115)) == .rejected(retryAfterNanoseconds: seconds(1)))

        // Two successes free two slots but do not close it yet.
        breaker.record(probes[0], outcome: .success, now: seconds(116))
        breaker.record(probes[1], outcome: .success, now: seconds(116))
        #expect(breaker.state == .halfOpen)
        guard case .allowedAsProbe(let fourth) = breaker.admit(now: seconds(116)) else {
            Issue.record("a freed slot admits another probe")
            return
        }
        #expect(breaker.record(probes[2], outcome: .success, now: seconds(117))?.to == .closed)
        #expect(breaker.state == .closed)
        // A probe of the half-open generation finishing late does not count any more.
        #expect(breaker.record(fourth, outcome: .failure, now: seconds(118)) == nil)
        #expect(breaker.state == .closed)
        guard case .allowed(let ticket) = breaker.admit(now: seconds(118)) else {
            Issue.record("closed admits normally")
            return
        }
        #expect(!ticket.isProbe)

        #expect(log.states == [.open, .halfOpen, .closed])
        #expect(log.all.map(\.cause) == [.consecutiveFailures(1), .openDurationElapsed, .probesSucceeded(3)])
        #expect(log.all.map(\.generation) == [1, 2, 3])
    }

    @Test func aProbeFailureReopensForAFullOpenDuration() {
        let breaker = breaker(Self.recovery)
        call(breaker, .failure, at: seconds(100))
        guard case .allowedAsProbe(let first) = breaker.admit(now: seconds(120)),
              case .allowedAsProbe(let second) = breaker.admit(now: seconds(120))
        else {
            Issue.record("expected probes")
            return
        }
        breaker.record(first, outcome: .success, now: seconds(121))
        #expect(breaker.record(second, outcome: .failure, now: seconds(122))?.cause == .probeFailed)
        #expect(breaker.state == .open)
        #expect(breaker.admit(now: seconds(122)) == .rejected(retryAfterNanoseconds: seconds(15)))
        #expect(log.states == [.open, .halfOpen, .open])
    }

    @Test func ignoredProbesFreeTheirSlotWithoutCounting() {
        let breaker = breaker(CircuitBreakerPolicy(consecutiveFailures: 1, openDurationNanoseconds: seconds(1),
                                                   halfOpenMaxProbes: 1, halfOpenSuccessesToClose: 1))
        call(breaker, .failure, at: seconds(100))
        #expect(call(breaker, .ignored, at: seconds(101)))
        #expect(breaker.state == .halfOpen)
        #expect(call(breaker, .success, at: seconds(101)))
        #expect(breaker.state == .closed)
    }

    @Test func callsAdmittedBeforeTheCircuitOpenedDoNotSteerItAfterwards() {
        let breaker = breaker(Self.recovery)
        guard case .allowed(let early) = breaker.admit(now: seconds(100)) else {
            Issue.record("closed admits")
            return
        }
        call(breaker, .failure, at: seconds(100))
        _ = breaker.admit(now: seconds(115))  // half-open, one probe out
        #expect(breaker.record(early, outcome: .success, now: seconds(116)) == nil)
        #expect(breaker.record(early, outcome: .failure, now: seconds(116)) == nil)
        #expect(breaker.state == .halfOpen)
    }

    @Test func lostProbesAreReplacedAfterTheProbeTimeout() {
        let breaker = breaker(CircuitBreakerPolicy(consecutiveFailures: 1, openDurationNanoseconds: seconds(10),
                                                   halfOpenMaxProbes: 1, probeTimeoutNanoseconds: seconds(30)))
        call(breaker, .failure, at: seconds(100))
        guard case .allowedAsProbe(let lost) = breaker.admit(now: seconds(110)) else {
            Issue.record("expected a probe")
            return
        }
        #expect(breaker.admit(now: seconds(139)) == .rejected(retryAfterNanoseconds: seconds(1)))
        guard case .allowedAsProbe(let replacement) = breaker.admit(now: seconds(140)) else {
            Issue.record("the lost probe's slot is reused")
            return
        }
        #expect(log.all.last?.cause == .probesLost)
        #expect(breaker.record(lost, outcome: .failure, now: seconds(141)) == nil, "the lost probe no longer counts")
        #expect(breaker.state == .halfOpen)
        breaker.record(replacement, outcome: .success, now: seconds(141))
        #expect(breaker.state == .halfOpen, "one of three successes")
    }

    @Test func concurrentAdmissionsWhileHalfOpenLetExactlyKProbesThrough() async {
        let breaker = breaker(CircuitBreakerPolicy(consecutiveFailures: 1, openDurationNanoseconds: seconds(5), halfOpenMaxProbes: 4))
        call(breaker, .failure, at: seconds(100))
        let admissions = await withTaskGroup(of: CircuitBreaker.Admission.self) { group in
            for _ in 0..<200 { group.addTask { breaker.admit(now: seconds(106)) } }
            return await group.reduce(into: [CircuitBreaker.Admission]()) { $0.append($1) }
        }
        let probes = admissions.filter { if case .allowedAsProbe = $0 { return true } else { return false } }
        #expect(probes.count == 4)
        #expect(admissions.count - probes.count == 196)
        #expect(log.states == [.open, .halfOpen], "exactly one task moved it to half-open")
    }

    @Test func concurrentRecordsKeepTheWindowCountsExact() async {
        // A threshold of 1.0 with mixed outcomes never trips, so every outcome stays in the window.
        let breaker = breaker(CircuitBreakerPolicy(failureRateThreshold: 1.0, minimumRequests: 1, consecutiveFailures: 0))
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<100 {
                group.addTask {
                    for index in 0..<100 {
                        guard case .allowed(let ticket) = breaker.admit(now: seconds(100)) else { return }
                        let outcome: CircuitBreakerOutcome = (task == 0 && index == 0) || index % 2 == 1 ? .success : .failure
                        breaker.record(ticket, outcome: outcome, now: seconds(100))
                    }
                }
            }
        }
        let snapshot = breaker.snapshot(now: seconds(100))
        #expect(snapshot.state == .closed)
        #expect(snapshot.windowSuccesses + snapshot.windowFailures == 10_000)
        #expect(snapshot.windowSuccesses == 5001)
    }

    @Test func concurrentFailuresOpenItExactlyOnce() async {
        let breaker = breaker(CircuitBreakerPolicy(minimumRequests: 50, consecutiveFailures: 0))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    for _ in 0..<20 {
                        if case .allowed(let ticket) = breaker.admit(now: seconds(100)) {
                            breaker.record(ticket, outcome: .failure, now: seconds(100))
                        }
                    }
                }
            }
        }
        #expect(breaker.state == .open)
        #expect(log.states == [.open])
    }

    @Test func policyProblemsAndStateNames() {
        #expect(CircuitBreakerPolicy().problems().isEmpty)
        #expect(CircuitBreakerPolicy(failureRateThreshold: 0, minimumRequests: 0, halfOpenMaxProbes: 0).problems().map(\.key)
            == ["failure_rate", "minimum_requests", "half_open_probes"])
        #expect(CircuitState.allCases.map(\.rawValue) == ["closed", "open", "half_open"])
        #expect(CircuitTransition(from: .closed, to: .open, cause: .consecutiveFailures(5), at: 0, generation: 1).description
            == "circuit closed -> open: 5 consecutive failures")
    }
}
