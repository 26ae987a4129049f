import Testing
@testable import RepriseCore

@Suite("Retry budget")
struct RetryBudgetTests {
    func grantedRetries(_ budget: RetryBudget, now: UInt64, asking: Int) -> Int {
        (0..<asking).filter { _ in budget.tryAcquireRetry(now: now) }.count
    }

    @Test func retriesAreAFractionOfRequests() {
        let budget = RetryBudget(policy: RetryBudgetPolicy(ratio: 0.2, minRetriesPerSecond: 0))
        for _ in 0..<100 { budget.recordRequest(now: seconds(50)) }
        #expect(grantedRetries(budget, now: seconds(50), asking: 100) == 20)
        #expect(budget.counts(now: seconds(50)) == RetryBudget.Counts(requests: 100, retries: 20))
    }

    @Test func lowTrafficStillHasTheMinimumAllowance() {
        let budget = RetryBudget(policy: RetryBudgetPolicy(ratio: 0.2, minRetriesPerSecond: 3, windowNanoseconds: seconds(10)))
        #expect(budget.policy.allowancePerWindow == 30)
        budget.recordRequest(now: seconds(50))
        #expect(grantedRetries(budget, now: seconds(50), asking: 100) == 30)
    }

    @Test func oldRequestsAndRetriesLeaveTheWindow() {
        let budget = RetryBudget(policy: RetryBudgetPolicy(ratio: 0.5, minRetriesPerSecond: 0, windowNanoseconds: seconds(10), bucketCount: 10))
        for _ in 0..<10 { budget.recordRequest(now: seconds(100)) }
        #expect(grantedRetries(budget, now: seconds(100), asking: 10) == 5)
        // 9.5 s later, still inside the window: spent.
        #expect(grantedRetries(budget, now: seconds(109.5), asking: 10) == 0)
        // 10 s later both the requests and the retries have left: nothing to base retries on.
        #expect(budget.counts(now: seconds(110)) == .zero)
        #expect(grantedRetries(budget, now: seconds(110), asking: 10) == 0)
        for _ in 0..<4 { budget.recordRequest(now: seconds(110)) }
        #expect(grantedRetries(budget, now: seconds(110), asking: 10) == 2)
    }

    @Test func slightlyOlderTimestampsFromOtherLoopsCountInTheNewestBucket() {
        let budget = RetryBudget(policy: RetryBudgetPolicy(ratio: 1, minRetriesPerSecond: 0))
        budget.recordRequest(now: seconds(100))
        budget.recordRequest(now: seconds(98.5))
        #expect(budget.counts(now: seconds(100)).requests == 2)
        #expect(budget.counts(now: seconds(109.9)).requests == 2)
        #expect(budget.counts(now: seconds(110)).requests == 0)
    }

    /// 20 req/s for 60 s against an upstream that always answers 503, each request driven by a
    /// `RetryStateMachine` with 3 attempts: without a budget that is 3 calls per request; with it
    /// the total stays within (1 + ratio) × requests + allowance × elapsed windows. The
    /// allowance term counts one window more than the 60 s of arrivals: retries go on for up to a
    /// second after the last arrival, and the bucketed window covers between 9 and 10 s, so 61 s
    /// span at most 7 disjoint windows. The run is deterministic (seeded jitter).
    @Test func sustainedTotalFailureKeepsUpstreamCallsWithinTheBudget() {
        let budgetPolicy = RetryBudgetPolicy(ratio: 0.2, minRetriesPerSecond: 2, windowNanoseconds: seconds(10))
        let withBudget = simulateOutage(budget: RetryBudget(policy: budgetPolicy))
        let duration = 60.0
        let bound = 1.2 * Double(withBudget.requests)
            + Double(budgetPolicy.minRetriesPerSecond) * (duration + budgetPolicy.windowNanoseconds.secondsValue)
        #expect(withBudget.requests == 1200)
        #expect(Double(withBudget.calls) <= bound, "calls \(withBudget.calls) bound \(bound)")
        #expect(withBudget.calls > withBudget.requests, "retries still happen within the budget")
        #expect(withBudget.gaveUp[.budgetExhausted, default: 0] > 0)

        let unlimited = simulateOutage(budget: nil)
        #expect(unlimited.calls == 3 * unlimited.requests, "the scenario would triple the load without a budget")
    }

    struct OutageResult {
        var requests = 0
        var calls = 0
        var gaveUp: [RetryGiveUpReason: Int] = [:]
    }

    /// A discrete-event simulation: requests arrive every 50 ms; each attempt fails at once; a
    /// retry is scheduled at `now + delay`.
    func simulateOutage(budget: RetryBudget?) -> OutageResult {
        var result = OutageResult()
        var pending: [(at: UInt64, request: Int)] = []
        var machines: [Int: RetryStateMachine] = [:]
        let policy = RetryPolicy(maxAttempts: 3, baseDelayNanoseconds: milliseconds(100), maxDelayNanoseconds: seconds(1))
        let jitter = seededJitter(42)
        let start = seconds(1000)
        for index in 0..<1200 {
            pending.append((start + milliseconds(50) * UInt64(index), index))
        }
        result.requests = pending.count
        while !pending.isEmpty {
            let next = pending.indices.min { pending[$0].at < pending[$1].at }!
            let (now, request) = pending.remove(at: next)
            if machines[request] == nil {
                // The request arrives now: the machine records it with the budget.
                machines[request] = RetryStateMachine(policy: policy, budget: budget, startedAt: now, jitter: jitter)
            }
            switch machines[request]!.startAttempt(now: now) {
            case .start:
                result.calls += 1
                switch machines[request]!.attemptFailed(.status(503, retryAfter: nil), now: now) {
                case .retry(let delay): pending.append((now + delay, request))
                case .giveUp(let reason, _): result.gaveUp[reason, default: 0] += 1
                case .deliver: Issue.record("a 503 was delivered")
                }
            case .giveUp(let reason, _):
                result.gaveUp[reason, default: 0] += 1
            }
        }
        return result
    }

    @Test func concurrentUseKeepsExactCounts() async {
        let budget = RetryBudget(policy: RetryBudgetPolicy(ratio: 0.2, minRetriesPerSecond: 10, windowNanoseconds: seconds(10)))
        let now = seconds(500)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<100 {
                group.addTask { for _ in 0..<100 { budget.recordRequest(now: now) } }
            }
        }
        let granted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<100 {
                group.addTask { (0..<100).filter { _ in budget.tryAcquireRetry(now: now) }.count }
            }
            return await group.reduce(0, +)
        }
        #expect(granted == 2000 + 100)
        #expect(budget.counts(now: now) == RetryBudget.Counts(requests: 10_000, retries: 2100))
    }

    @Test func policyProblems() {
        #expect(RetryBudgetPolicy().problems().isEmpty)
        #expect(RetryBudgetPolicy(ratio: -1, minRetriesPerSecond: -1, windowNanoseconds: 0, bucketCount: 0).problems().map(\.key)
            == ["ratio", "min_retries_per_second", "window", "buckets"])
    }
}

extension UInt64 {
    fileprivate var secondsValue: Double { Double(self) / 1e9 }
}
