import Testing
@testable import RepriseCore

@Suite("Retry state machine")
struct RetryStateMachineTests {
    /// 1994-11-06 08:49:30 GMT: seven seconds before the RFC 9110 example date.
    static let wallClock: @Sendable () -> Int64 = { 784_111_770_000 }

    func machine(
        _ policy: RetryPolicy = RetryPolicy(), budget: RetryBudget? = nil, startedAt: UInt64 = seconds(100),
        jitter: JitterSource = .maximum
    ) -> RetryStateMachine {
        RetryStateMachine(policy: policy, budget: budget, startedAt: startedAt, jitter: jitter,
                          wallClockUnixMilliseconds: Self.wallClock)
    }

    @Test func backoffCeilingDoublesFromBaseUpToMaxWithoutOverflow() {
        let policy = RetryPolicy(baseDelayNanoseconds: milliseconds(200), maxDelayNanoseconds: seconds(5))
        let ceilings = (1...8).map { policy.backoffCeilingNanoseconds(beforeRetry: $0) }
        #expect(ceilings == [200, 400, 800, 1600, 3200, 5000, 5000, 5000].map { milliseconds($0) })
        for retry in [40, 63, 64, 65, 1000, Int.max] {
            #expect(policy.backoffCeilingNanoseconds(beforeRetry: retry) == seconds(5))
        }
        let huge = RetryPolicy(baseDelayNanoseconds: .max / 2, maxDelayNanoseconds: .max)
        #expect(huge.backoffCeilingNanoseconds(beforeRetry: 3) == .max)
    }

    @Test func retryDelaysFollowTheCeilingsAtTheJitterExtremes() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelayNanoseconds: milliseconds(200), maxDelayNanoseconds: milliseconds(500))
        for (jitter, expected) in [(JitterSource.maximum, [200, 400, 500, 500]), (.minimum, [0, 0, 0, 0])] {
            var retry = machine(policy, jitter: jitter)
            var now = seconds(100)
            var delays: [UInt64] = []
            while case .start = retry.startAttempt(now: now) {
                guard case .retry(let delay) = retry.attemptFailed(.status(503, retryAfter: nil), now: now) else { break }
                delays.append(delay)
                now += delay
            }
            #expect(delays == expected.map { milliseconds(UInt64($0)) })
            #expect(retry.attempts == 5)
            #expect(retry.phase == .gaveUp(.attemptsExhausted))
        }
    }

    @Test func fullJitterSpreadsOverTheWholeRange() {
        let policy = RetryPolicy(maxAttempts: 2, baseDelayNanoseconds: seconds(1), maxDelayNanoseconds: seconds(1))
        var delays: [UInt64] = []
        for _ in 0..<1000 {
            var retry = machine(policy, jitter: .system)
            _ = retry.startAttempt(now: seconds(100))
            guard case .retry(let delay) = retry.attemptFailed(.connectError, now: seconds(100)) else {
                Issue.record("connect error not retried")
                return
            }
            delays.append(delay)
        }
        #expect(delays.allSatisfy { $0 <= seconds(1) })
        // Uniform over [0, 1s]: 1000 draws all above 0.25 s (or all below 0.75 s) has
        // probability 0.75^1000 ≈ 1e-125.
        #expect(delays.min()! < milliseconds(250))
        #expect(delays.max()! > milliseconds(750))
    }

    @Test func retryableKindsAndStatuses() {
        for failure: AttemptFailure in [.connectError, .timeoutBeforeFirstByte, .status(429, retryAfter: nil),
                                        .status(500, retryAfter: nil), .status(502, retryAfter: nil),
                                        .status(503, retryAfter: nil), .status(504, retryAfter: nil)] {
            var retry = machine()
            _ = retry.startAttempt(now: seconds(100))
            #expect(retry.attemptFailed(failure, now: seconds(100)) == .retry(afterNanoseconds: milliseconds(200)), "\(failure)")
        }
        for status in [200, 201, 400, 401, 404, 413, 501, 505] {
            var retry = machine()
            _ = retry.startAttempt(now: seconds(100))
            #expect(retry.attemptFailed(.status(status, retryAfter: "1"), now: seconds(100)) == .deliver, "\(status)")
            #expect(retry.phase == .delivering)
        }
        var retry = machine()
        _ = retry.startAttempt(now: seconds(100))
        #expect(retry.attemptFailed(.otherError, now: seconds(100)) == .giveUp(.notRetryable, lastFailure: .otherError))
    }

    @Test func policyCanNarrowTheRetriedStatuses() {
        var retry = machine(RetryPolicy(retryableStatuses: [503]))
        _ = retry.startAttempt(now: seconds(100))
        #expect(retry.attemptFailed(.status(500, retryAfter: nil), now: seconds(100)) == .deliver)
        #expect(RetryPolicy(retryableStatuses: [503, 400]).problems().map(\.key) == ["statuses"])
        #expect(RetryPolicy().problems().isEmpty)
    }

    @Test func twoServerErrorsThenSuccessIsDeliveredAfterThreeAttempts() {
        var retry = machine()
        var now = seconds(100)
        var trace: [String] = []
        for status in [500, 500, 200] {
            guard case .start(let attempt, _) = retry.startAttempt(now: now) else { break }
            trace.append("attempt \(attempt)")
            switch retry.attemptFailed(.status(status, retryAfter: nil), now: now) {
            case .retry(let delay): trace.append("retry"); now += delay
            case .deliver: trace.append("deliver")
            case .giveUp(let reason, _): trace.append("give up \(reason)")
            }
        }
        #expect(trace == ["attempt 1", "retry", "attempt 2", "retry", "attempt 3", "deliver"])
        #expect(retry.attempts == 3)
    }

    @Test func exhaustedAttemptsGiveUpWithTheLastStatusForTheClient() {
        var retry = machine(RetryPolicy(maxAttempts: 2))
        _ = retry.startAttempt(now: seconds(100))
        #expect(retry.attemptFailed(.status(503, retryAfter: nil), now: seconds(100)) == .retry(afterNanoseconds: milliseconds(200)))
        _ = retry.startAttempt(now: seconds(101))
        #expect(retry.attemptFailed(.status(502, retryAfter: nil), now: seconds(101))
            == .giveUp(.attemptsExhausted, lastFailure: .status(502, retryAfter: nil)))
        #expect(retry.attempts == 2)
        #expect(retry.startAttempt(now: seconds(102)) == .giveUp(.attemptsExhausted, lastFailure: .status(502, retryAfter: nil)))
        #expect(retry.attempts == 2)
    }

    @Test func maxAttemptsOneNeverRetries() {
        var retry = machine(RetryPolicy(maxAttempts: 1))
        _ = retry.startAttempt(now: seconds(100))
        #expect(retry.attemptFailed(.connectError, now: seconds(100)) == .giveUp(.attemptsExhausted, lastFailure: .connectError))
    }

    @Test func retryAfterSecondsIsWaitedAtLeast() {
        var retry = machine(jitter: .minimum)
        _ = retry.startAttempt(now: seconds(100))
        #expect(retry.attemptFailed(.status(429, retryAfter: "2"), now: seconds(100)) == .retry(afterNanoseconds: seconds(2)))

        // A backoff longer than Retry-After wins: never earlier than asked, still jittered.
        var longBackoff = machine(RetryPolicy(baseDelayNanoseconds: seconds(4), maxDelayNanoseconds: seconds(4)), jitter: .maximum)
        _ = longBackoff.startAttempt(now: seconds(100))
        #expect(longBackoff.attemptFailed(.status(503, retryAfter: " 1 "), now: seconds(100)) == .retry(afterNanoseconds: seconds(4)))
    }

    @Test func retryAfterDateIsReadAgainstTheWallClock() {
        var retry = machine(jitter: .minimum)
        _ = retry.startAttempt(now: seconds(100))
        #expect(retry.attemptFailed(.status(503, retryAfter: "Sun, 06 Nov 1994 08:49:37 GMT"), now: seconds(100))
            == .retry(afterNanoseconds: seconds(7)))

        var past = machine(jitter: .maximum)
        _ = past.startAttempt(now: seconds(100))
        #expect(past.attemptFailed(.status(503, retryAfter: "Sun, 06 Nov 1994 08:00:00 GMT"), now: seconds(100))
            == .retry(afterNanoseconds: milliseconds(200)))
    }

    @Test func unreadableRetryAfterFallsBackToBackoff() {
        for header in ["soon", "", "1.5", "-3", "1 2", "Sun, 06 Nov 1994 08:49:37 UTC"] {
            var retry = machine()
            _ = retry.startAttempt(now: seconds(100))
            #expect(retry.attemptFailed(.status(429, retryAfter: header), now: seconds(100)) == .retry(afterNanoseconds: milliseconds(200)), "\(header)")
        }
    }

    @Test func retryAfterBeyondTheCapGivesUpAtOnce() {
        let policy = RetryPolicy(maxRetryAfterNanoseconds: seconds(30))
        var atCap = machine(policy, jitter: .minimum)
        _ = atCap.startAttempt(now: seconds(100))
        #expect(atCap.attemptFailed(.status(429, retryAfter: "30"), now: seconds(100)) == .retry(afterNanoseconds: seconds(30)))

        for header in ["31", "99999999999999999999999", "Sun, 06 Nov 1994 08:50:01 GMT"] {
            var retry = machine(policy)
            _ = retry.startAttempt(now: seconds(100))
            let failure = AttemptFailure.status(429, retryAfter: header)
            #expect(retry.attemptFailed(failure, now: seconds(100)) == .giveUp(.retryAfterBeyondCap, lastFailure: failure), "\(header)")
            #expect(retry.attempts == 1)
        }
    }

    @Test func deadlineStopsRetries() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelayNanoseconds: milliseconds(600), maxDelayNanoseconds: seconds(10),
                                 deadlineNanoseconds: seconds(1))
        var retry = machine(policy, startedAt: seconds(100))
        #expect(retry.deadline == seconds(101))
        #expect(retry.startAttempt(now: seconds(100)) == .start(attempt: 1, deadline: seconds(101)))
        // 100.1 + 0.6 < 101: retried.
        #expect(retry.attemptFailed(.connectError, now: seconds(100.1)) == .retry(afterNanoseconds: milliseconds(600)))
        #expect(retry.startAttempt(now: seconds(100.7)) == .start(attempt: 2, deadline: seconds(101)))
        // 100.8 + 1.2 ≥ 101: the wait would end past the deadline.
        #expect(retry.attemptFailed(.connectError, now: seconds(100.8)) == .giveUp(.deadlineExceeded, lastFailure: .connectError))
        #expect(retry.attempts == 2)
    }

    @Test func retryAfterLongerThanTheTimeLeftGivesUp() {
        var retry = machine(RetryPolicy(deadlineNanoseconds: seconds(5)), startedAt: seconds(100), jitter: .minimum)
        _ = retry.startAttempt(now: seconds(100))
        #expect(retry.attemptFailed(.status(429, retryAfter: "10"), now: seconds(101))
            == .giveUp(.deadlineExceeded, lastFailure: .status(429, retryAfter: "10")))
    }

    @Test func noAttemptStartsAtOrAfterTheDeadline() {
        var retry = RetryStateMachine(policy: RetryPolicy(), budget: nil, startedAt: seconds(100), deadline: seconds(102), jitter: .minimum)
        _ = retry.startAttempt(now: seconds(100))
        #expect(retry.attemptFailed(.timeoutBeforeFirstByte, now: seconds(101)) == .retry(afterNanoseconds: 0))
        // The timer fired late (a busy loop): the deadline is checked again.
        #expect(retry.startAttempt(now: seconds(102)) == .giveUp(.deadlineExceeded, lastFailure: .timeoutBeforeFirstByte))
        #expect(retry.attempts == 1)
    }

    @Test func nothingIsRetriedOnceTheResponseStarted() {
        var retry = machine()
        _ = retry.startAttempt(now: seconds(100))
        #expect(retry.responseStarted() == .deliver)
        // The stream is cut after three chunks: the client already has bytes.
        for failure: AttemptFailure in [.otherError, .connectError, .timeoutBeforeFirstByte, .status(503, retryAfter: nil)] {
            var copy = retry
            #expect(copy.attemptFailed(failure, now: seconds(101)) == .giveUp(.responseAlreadyStarted, lastFailure: failure))
            #expect(copy.attempts == 1)
        }
    }

    @Test func budgetRefusalGivesUp() {
        let budget = RetryBudget(policy: RetryBudgetPolicy(ratio: 0, minRetriesPerSecond: 0))
        var retry = machine(budget: budget)
        _ = retry.startAttempt(now: seconds(100))
        #expect(retry.attemptFailed(.status(500, retryAfter: nil), now: seconds(100))
            == .giveUp(.budgetExhausted, lastFailure: .status(500, retryAfter: nil)))
        #expect(budget.counts(now: seconds(100)) == RetryBudget.Counts(requests: 1, retries: 0))
    }

    @Test func budgetIsChargedOnlyForRetriesActuallyScheduled() {
        let budget = RetryBudget(policy: RetryBudgetPolicy(ratio: 0, minRetriesPerSecond: 1, windowNanoseconds: seconds(10)))
        // Capped Retry-After: gives up before asking the budget, so the budget keeps its 10 retries.
        var capped = machine(budget: budget)
        _ = capped.startAttempt(now: seconds(100))
        _ = capped.attemptFailed(.status(429, retryAfter: "3600"), now: seconds(100))
        #expect(budget.counts(now: seconds(100)) == RetryBudget.Counts(requests: 1, retries: 0))
        var retried = machine(budget: budget)
        _ = retried.startAttempt(now: seconds(100))
        #expect(retried.attemptFailed(.connectError, now: seconds(100)) == .retry(afterNanoseconds: milliseconds(200)))
        #expect(budget.counts(now: seconds(100)) == RetryBudget.Counts(requests: 2, retries: 1))
    }
}
