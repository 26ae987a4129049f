import RepriseCore
import Testing
@testable import RepriseProxy

/// The upstream exchange's decisions as traces: each test feeds events and checks the actions,
/// without sockets, event loops or a clock (time is uptime nanoseconds from 0).
@Suite struct UpstreamExchangeStateMachineTests {
    static let firstByteTimeout: Int64 = 10_000_000_000
    static let circuitOpen = ProxyError(status: 503, type: "api_error", code: "upstream_circuit_open",
                                        message: "the upstream is failing; requests are refused until it recovers")

    private static func ms(_ value: UInt64) -> UInt64 { value * 1_000_000 }

    /// Backoff with the full jitter taken: 200 ms before the first retry, 400 ms before the second.
    private func machine(
        policy: RetryPolicy = RetryPolicy(), hasFallback: Bool = false, leadsFlight: Bool = false
    ) -> UpstreamExchangeStateMachine {
        let retry = RetryStateMachine(policy: policy, budget: nil, startedAt: 0, jitter: .maximum)
        return UpstreamExchangeStateMachine(
            retry: retry, firstByteTimeoutNanoseconds: Self.firstByteTimeout, hasFallback: hasFallback, leadsFlight: leadsFlight)
    }

    /// Start attempt `number` on the primary, admitted by its breaker, and arm its timer.
    private func startAttempt(_ number: Int, _ exchange: inout UpstreamExchangeStateMachine, now: UInt64 = 0) {
        let starting = number == 1 ? exchange.start(now: now, abandoned: false) : exchange.retryTimerFired(now: now, abandoned: false)
        #expect(starting == [.consultPrimaryBreaker])
        #expect(exchange.primaryBreakerAdmitted(now: now) == [.startAttempt(number: number, onFallback: false)])
        #expect(exchange.attemptStarted() == [.armFirstByteTimer(attempt: number, nanoseconds: Self.firstByteTimeout)])
    }

    // MARK: Success and retries

    @Test func successIsWrittenStoredAndCompletesTheFlight() {
        var exchange = machine()
        startAttempt(1, &exchange)
        #expect(exchange.headReceived(status: 200, retryAfter: nil, attempt: 1, now: Self.ms(5))
            == [.cancelFirstByteTimer, .recordBreakerOutcome(.success), .writeHead(attempt: 1, toTee: true)])
        #expect(exchange.bodyPartReceived(attempt: 1) == [.writeBodyPart])
        #expect(exchange.bodyPartDelivered(streamComplete: false) == [])
        #expect(exchange.upstreamEnded(attempt: 1, clientGone: false, abandoned: false)
            == [.end(store: true, completeFlight: true)])
    }

    @Test func a503IsRetriedAfterItsRestIsDiscarded() {
        var exchange = machine()
        startAttempt(1, &exchange)
        #expect(exchange.headReceived(status: 503, retryAfter: nil, attempt: 1, now: Self.ms(5))
            == [.cancelFirstByteTimer, .recordBreakerOutcome(.failure)])
        #expect(exchange.bodyPartReceived(attempt: 1) == [])
        #expect(exchange.upstreamEnded(attempt: 1, clientGone: false, abandoned: false)
            == [.scheduleRetry(afterNanoseconds: Self.ms(200))])

        startAttempt(2, &exchange, now: Self.ms(210))
        // A late event of the first attempt changes nothing.
        #expect(exchange.upstreamFailed(.remoteClosed, attempt: 1, now: Self.ms(211), abandoned: false) == [])
        #expect(exchange.headReceived(status: 200, retryAfter: nil, attempt: 2, now: Self.ms(220))
            == [.cancelFirstByteTimer, .recordBreakerOutcome(.success), .writeHead(attempt: 2, toTee: true)])
        #expect(exchange.upstreamEnded(attempt: 2, clientGone: false, abandoned: false)
            == [.end(store: true, completeFlight: true)])
    }

    @Test func aDiscardedAttemptThatBreaksIsRetriedToo() {
        var exchange = machine()
        startAttempt(1, &exchange)
        _ = exchange.headReceived(status: 502, retryAfter: nil, attempt: 1, now: 0)
        #expect(exchange.upstreamFailed(.remoteClosed, attempt: 1, now: 0, abandoned: false)
            == [.cancelFirstByteTimer, .scheduleRetry(afterNanoseconds: Self.ms(200))])
    }

    @Test func retryAfterIsHonouredAndA429DoesNotCountAgainstTheBreaker() {
        var exchange = machine()
        startAttempt(1, &exchange)
        #expect(exchange.headReceived(status: 429, retryAfter: "2", attempt: 1, now: 0)
            == [.cancelFirstByteTimer, .recordBreakerOutcome(.ignored)])
        #expect(exchange.upstreamEnded(attempt: 1, clientGone: false, abandoned: false)
            == [.scheduleRetry(afterNanoseconds: Self.ms(2_000))])
    }

    @Test func retryAfterBeyondTheCapDeliversTheUpstreamsAnswer() {
        var exchange = machine()
        startAttempt(1, &exchange)
        #expect(exchange.headReceived(status: 429, retryAfter: "120", attempt: 1, now: 0)
            == [.cancelFirstByteTimer, .recordBreakerOutcome(.ignored), .writeHead(attempt: 1, toTee: true)])
    }

    // MARK: First byte

    @Test func firstByteTimeoutCancelsTheCallAndIsRetried() {
        var exchange = machine()
        startAttempt(1, &exchange)
        #expect(exchange.firstByteDeadlineReached(attempt: 1) == [.cancelCall])
        #expect(exchange.upstreamFailed(.cancelled, attempt: 1, now: Self.ms(10_000), abandoned: false)
            == [.cancelFirstByteTimer, .recordBreakerOutcome(.failure), .scheduleRetry(afterNanoseconds: Self.ms(200))])
        startAttempt(2, &exchange, now: Self.ms(10_200))
        // The first attempt's timer, firing late, does not touch the second.
        #expect(exchange.firstByteDeadlineReached(attempt: 1) == [])
        #expect(!exchange.firstByteTimedOut)
    }

    @Test func theFirstByteTimerIsCappedAtTheDeadline() {
        var exchange = machine(policy: RetryPolicy(deadlineNanoseconds: Self.ms(3_000)))
        _ = exchange.start(now: Self.ms(1_000), abandoned: false)
        _ = exchange.primaryBreakerAdmitted(now: Self.ms(1_000))
        #expect(exchange.attemptStarted() == [.armFirstByteTimer(attempt: 1, nanoseconds: Int64(Self.ms(2_000)))])
    }

    @Test func theFirstByteTimerFiringAfterTheHeadDoesNothing() {
        var exchange = machine()
        startAttempt(1, &exchange)
        _ = exchange.headReceived(status: 200, retryAfter: nil, attempt: 1, now: 0)
        #expect(exchange.firstByteDeadlineReached(attempt: 1) == [])
    }

    // MARK: Giving up

    @Test func givingUpAfterAFirstByteTimeoutAnswers504() {
        var exchange = machine(policy: RetryPolicy(maxAttempts: 1))
        startAttempt(1, &exchange)
        _ = exchange.firstByteDeadlineReached(attempt: 1)
        #expect(exchange.upstreamFailed(.cancelled, attempt: 1, now: 0, abandoned: false) == [
            .cancelFirstByteTimer, .recordBreakerOutcome(.failure),
            .sendError(.upstreamTimeout("no response head within upstream.first_byte_timeout"), attempts: 1, retryAfterNanoseconds: nil),
        ])
    }

    @Test func givingUpAfterConnectFailuresAnswers502() {
        var exchange = machine(policy: RetryPolicy(maxAttempts: 2))
        startAttempt(1, &exchange)
        #expect(exchange.upstreamFailed(.connectFailed("refused"), attempt: 1, now: 0, abandoned: false)
            == [.cancelFirstByteTimer, .recordBreakerOutcome(.failure), .scheduleRetry(afterNanoseconds: Self.ms(200))])
        startAttempt(2, &exchange, now: Self.ms(200))
        let error = UpstreamCallError.connectFailed("refused")
        #expect(exchange.upstreamFailed(error, attempt: 2, now: Self.ms(201), abandoned: false) == [
            .cancelFirstByteTimer, .recordBreakerOutcome(.failure),
            .sendError(.upstreamUnreachable(error.description), attempts: 2, retryAfterNanoseconds: nil),
        ])
    }

    @Test func givingUpAfterAReadTimeoutSaysTimedOutOnce() {
        var exchange = machine(policy: RetryPolicy(maxAttempts: 1))
        startAttempt(1, &exchange)
        #expect(exchange.upstreamFailed(.readTimeout, attempt: 1, now: 0, abandoned: false) == [
            .cancelFirstByteTimer, .recordBreakerOutcome(.failure),
            .sendError(.upstreamTimeout("no data within upstream.read_timeout"), attempts: 1, retryAfterNanoseconds: nil),
        ])
    }

    @Test func aBadResponseIsNotRetried() {
        var exchange = machine()
        startAttempt(1, &exchange)
        let error = UpstreamCallError.badResponse("no status line")
        #expect(exchange.upstreamFailed(error, attempt: 1, now: 0, abandoned: false) == [
            .cancelFirstByteTimer, .recordBreakerOutcome(.failure),
            .sendError(.upstreamBadResponse(error.description), attempts: 1, retryAfterNanoseconds: nil),
        ])
    }

    @Test func aRetryWaitEndingPastTheDeadlineAnswers504() {
        var exchange = machine(policy: RetryPolicy(deadlineNanoseconds: Self.ms(20_000)))
        startAttempt(1, &exchange)
        _ = exchange.upstreamFailed(.connectTimeout, attempt: 1, now: Self.ms(19_000), abandoned: false)
        #expect(exchange.retryTimerFired(now: Self.ms(20_500), abandoned: false)
            == [.sendError(.upstreamTimeout("no answer within upstream.total_timeout"), attempts: 1, retryAfterNanoseconds: nil)])
    }

    @Test func aRequestThatCannotBeBuiltIsAnsweredAtOnce() {
        var exchange = machine()
        _ = exchange.start(now: 0, abandoned: false)
        _ = exchange.primaryBreakerAdmitted(now: 0)
        #expect(exchange.requestRejected(.badRequest("no model")) == [.sendError(.badRequest("no model"), attempts: 1, retryAfterNanoseconds: nil)])
        #expect(exchange.attemptStarted() == [])
    }

    // MARK: Breakers

    @Test func anOpenCircuitWithoutFallbackAnswers503WithRetryAfter() {
        var exchange = machine()
        _ = exchange.start(now: 0, abandoned: false)
        #expect(exchange.primaryBreakerRejected(retryAfterNanoseconds: Self.ms(30_000), now: 0)
            == [.sendError(Self.circuitOpen, attempts: 1, retryAfterNanoseconds: Self.ms(30_000))])
    }

    @Test func anOpenCircuitGoesToTheFallbackWhoseAnswerIsNeverStored() {
        var exchange = machine(hasFallback: true)
        _ = exchange.start(now: 0, abandoned: false)
        #expect(exchange.primaryBreakerRejected(retryAfterNanoseconds: Self.ms(30_000), now: 0) == [.consultFallbackBreaker])
        #expect(exchange.fallbackBreakerAdmitted(now: 0) == [.startAttempt(number: 1, onFallback: true)])
        #expect(exchange.headReceived(status: 200, retryAfter: nil, attempt: 1, now: 0)
            == [.cancelFirstByteTimer, .recordBreakerOutcome(.success), .writeHead(attempt: 1, toTee: false)])
    }

    @Test func bothCircuitsOpenAnswer503WithThePrimarysRetryAfter() {
        var exchange = machine(hasFallback: true)
        _ = exchange.start(now: 0, abandoned: false)
        _ = exchange.primaryBreakerRejected(retryAfterNanoseconds: Self.ms(30_000), now: 0)
        #expect(exchange.fallbackBreakerRejected(now: 0)
            == [.sendError(Self.circuitOpen, attempts: 1, retryAfterNanoseconds: Self.ms(30_000))])
    }

    @Test func theRetryOfAFallbackAttemptAsksThePrimaryFirst() {
        var exchange = machine(hasFallback: true)
        _ = exchange.start(now: 0, abandoned: false)
        _ = exchange.primaryBreakerRejected(retryAfterNanoseconds: Self.ms(30_000), now: 0)
        _ = exchange.fallbackBreakerAdmitted(now: 0)
        _ = exchange.upstreamFailed(.connectFailed("refused"), attempt: 1, now: 0, abandoned: false)
        startAttempt(2, &exchange, now: Self.ms(200))
        #expect(!exchange.attemptUsesFallback)
    }

    // MARK: After the head

    @Test func aFailureAfterTheHeadAbortsAndIsNeitherRetriedNorStored() {
        var exchange = machine()
        startAttempt(1, &exchange)
        _ = exchange.headReceived(status: 200, retryAfter: nil, attempt: 1, now: 0)
        #expect(exchange.bodyPartReceived(attempt: 1) == [.writeBodyPart])
        #expect(exchange.upstreamFailed(.remoteClosed, attempt: 1, now: 0, abandoned: false) == [.cancelFirstByteTimer, .abort])
        #expect(exchange.upstreamEnded(attempt: 1, clientGone: false, abandoned: false) == [])
    }

    @Test func theStreamCompletesAtItsLastEventThenTheClientHangsUpAndTheConnectionBreaks() {
        var exchange = machine()
        startAttempt(1, &exchange)
        _ = exchange.headReceived(status: 200, retryAfter: nil, attempt: 1, now: 0)
        _ = exchange.bodyPartReceived(attempt: 1)
        #expect(exchange.bodyPartDelivered(streamComplete: true) == [.completeFlight])
        // The rest (after `data: [DONE]`) is read only to keep the connection.
        #expect(exchange.bodyPartReceived(attempt: 1) == [.writeBodyPart])
        #expect(exchange.bodyPartDelivered(streamComplete: true) == [])
        #expect(exchange.clientLeft() == [])
        #expect(exchange.upstreamFailed(.remoteClosed, attempt: 1, now: 0, abandoned: true)
            == [.cancelFirstByteTimer, .end(store: false, completeFlight: false)])
    }

    @Test func aCompleteStreamEndingAfterTheClientLeftIsNeitherStoredNorFlownAgain() {
        var exchange = machine()
        startAttempt(1, &exchange)
        _ = exchange.headReceived(status: 200, retryAfter: nil, attempt: 1, now: 0)
        _ = exchange.bodyPartReceived(attempt: 1)
        _ = exchange.bodyPartDelivered(streamComplete: true)
        #expect(exchange.clientLeft() == [])
        #expect(exchange.upstreamEnded(attempt: 1, clientGone: true, abandoned: true) == [.end(store: false, completeFlight: false)])
    }

    // MARK: The client leaving

    @Test func theClientLeavingBeforeTheHeadCancelsTheCall() {
        var exchange = machine()
        startAttempt(1, &exchange)
        #expect(exchange.clientLeft() == [.cancelFirstByteTimer, .cancelCall, .land])
        #expect(exchange.upstreamFailed(.cancelled, attempt: 1, now: 0, abandoned: true) == [.cancelFirstByteTimer])
        #expect(exchange.retryTimerFired(now: Self.ms(200), abandoned: true) == [])
    }

    @Test func theLeaderLeavingWithFollowersLetsTheCallGoOn() {
        var exchange = machine(leadsFlight: true)
        startAttempt(1, &exchange)
        #expect(exchange.clientLeft() == [.leaderLeft])
        #expect(exchange.headReceived(status: 200, retryAfter: nil, attempt: 1, now: 0)
            == [.cancelFirstByteTimer, .recordBreakerOutcome(.success), .writeHead(attempt: 1, toTee: true)])
        // The followers received the whole answer: it is stored.
        #expect(exchange.upstreamEnded(attempt: 1, clientGone: true, abandoned: false) == [.end(store: true, completeFlight: true)])
    }

    @Test func theFlightAbandoningTheCallCancelsIt() {
        var exchange = machine(leadsFlight: true)
        startAttempt(1, &exchange)
        #expect(exchange.clientLeft() == [.leaderLeft])
        #expect(exchange.callAbandoned() == [.cancelFirstByteTimer, .cancelCall, .land])
    }

    @Test func nothingIsRetriedOnceNobodyWaits() {
        var exchange = machine()
        startAttempt(1, &exchange)
        #expect(exchange.upstreamFailed(.connectFailed("refused"), attempt: 1, now: 0, abandoned: true)
            == [.cancelFirstByteTimer, .recordBreakerOutcome(.failure)])
        #expect(exchange.start(now: 0, abandoned: true) == [])
    }
}
