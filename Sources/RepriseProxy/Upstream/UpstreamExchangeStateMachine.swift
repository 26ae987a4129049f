import RepriseCore

/// The decisions of one client request's conversation with the upstream(s), as a plain value:
/// which upstream an attempt goes to, when it has waited too long for its first byte, whether
/// an answer is retried or delivered, what the client is told when it is not, and what the
/// client leaving stops.
///
/// `UpstreamExchange` runs it on the client connection's event loop: it feeds the events (the
/// breakers' verdicts, the attempt's head, parts, end or failure, its timers, the client
/// leaving) and runs the returned actions; it keeps the I/O (the call, the timers, the breaker
/// tickets, the writer, the tee, the flight). Time comes in as uptime nanoseconds. Events of an
/// attempt other than the current one are ignored.
///
/// The rules:
/// - An attempt goes to the primary when its breaker admits, else to the fallback when its
///   breaker admits, else the client gets a 503 (`upstream_circuit_open`) with `Retry-After`.
/// - Every attempt has `firstByteTimeoutNanoseconds` (capped at the retry deadline) to send its
///   head; then its call is cancelled and its failure counts as `timeoutBeforeFirstByte`.
/// - A retryable head or a failure before the head is retried as `RetryStateMachine` decides;
///   the rest of a retried attempt is discarded before the wait starts. Giving up answers the
///   client with Reprise's error: 504 for timeouts, else what the last failure says.
/// - Once a head was forwarded nothing is retried: a failure after it aborts the client's
///   response and the flight, and nothing is stored.
/// - When the tee says the stream reached its last event the answer is whole: the flight
///   completes there, a client hanging up afterwards cancels nothing, and a broken connection
///   afterwards ends the client's response cleanly.
/// - A client leaving cancels the call, unless it leads a flight (followers may still wait:
///   the flight reports `callAbandoned` when nobody does).
struct UpstreamExchangeStateMachine: Sendable {
    /// Where the current attempt stands.
    ///
    /// - `idle`: before `start`, or waiting for a retry (`retryTimerFired` starts the next
    ///   attempt), or over. Can transition to: `admitting` (an attempt may start).
    /// - `admitting`: asking the breakers. Can transition to: `awaitingHead`, `idle` (503).
    /// - `awaitingHead(startedAt)`. Can transition to: `delivering`, `discarding`, `idle`.
    /// - `delivering`: this attempt's answer goes to the client. Can transition to: `idle`.
    /// - `discarding(delay)`: a retry was decided at the head; the rest of this attempt is
    ///   dropped, then the wait starts. Can transition to: `idle`.
    enum Mode: Equatable, Sendable {
        case idle
        case admitting(primaryRetryAfterNanoseconds: UInt64?)
        case awaitingHead(startedAt: UInt64)
        case delivering
        case discarding(retryAfterNanoseconds: UInt64)
    }

    let firstByteTimeoutNanoseconds: Int64
    let hasFallback: Bool
    /// This request leads a coalesced flight: followers receive what the client does.
    let leadsFlight: Bool
    private(set) var retry: RetryStateMachine
    /// The current attempt's number (the value of `X-Reprise-Attempts`).
    private(set) var attempt = 0
    private(set) var mode = Mode.idle
    /// The last attempt's first-byte timer fired (kept until the next attempt's call starts:
    /// giving up before it names the timeout).
    private(set) var firstByteTimedOut = false
    /// The current attempt went to `upstream.fallback_url` (the primary's breaker is open).
    private(set) var attemptUsesFallback = false
    /// The streamed answer reached its last event (the tee's verdict): it is whole, was stored,
    /// and the flight ended there. The rest of the upstream body is read only to keep the
    /// connection, so a client hanging up now cancels nothing.
    private(set) var answerComplete = false

    init(retry: RetryStateMachine, firstByteTimeoutNanoseconds: Int64, hasFallback: Bool, leadsFlight: Bool) {
        self.retry = retry
        self.firstByteTimeoutNanoseconds = firstByteTimeoutNanoseconds
        self.hasFallback = hasFallback
        self.leadsFlight = leadsFlight
    }

    // MARK: Attempts

    /// The first attempt may start. `abandoned`: neither the client nor a follower still wants
    /// the answer.
    mutating func start(now: UInt64, abandoned: Bool) -> Actions {
        startAttempt(now: now, abandoned: abandoned)
    }

    /// The wait before a retry ended: the next attempt may start.
    mutating func retryTimerFired(now: UInt64, abandoned: Bool) -> Actions {
        startAttempt(now: now, abandoned: abandoned)
    }

    private mutating func startAttempt(now: UInt64, abandoned: Bool) -> Actions {
        guard !abandoned else { return [] }
        switch retry.startAttempt(now: now) {
        case .giveUp(let reason, let lastFailure):
            return giveUp(reason, lastFailure: lastFailure, error: nil)
        case .start(let number, _):
            attempt = number
        }
        attemptUsesFallback = false
        mode = .admitting(primaryRetryAfterNanoseconds: nil)
        return Actions(.consultPrimaryBreaker)
    }

    mutating func primaryBreakerAdmitted(now: UInt64) -> Actions {
        guard case .admitting = mode else { return [] }
        return send(now: now, onFallback: false)
    }

    mutating func primaryBreakerRejected(retryAfterNanoseconds: UInt64, now: UInt64) -> Actions {
        guard case .admitting = mode else { return [] }
        guard hasFallback else { return circuitOpen(retryAfterNanoseconds: retryAfterNanoseconds) }
        mode = .admitting(primaryRetryAfterNanoseconds: retryAfterNanoseconds)
        return Actions(.consultFallbackBreaker)
    }

    mutating func fallbackBreakerAdmitted(now: UInt64) -> Actions {
        guard case .admitting = mode else { return [] }
        return send(now: now, onFallback: true)
    }

    mutating func fallbackBreakerRejected(now: UInt64) -> Actions {
        // The client waits as long as the primary is refused; the fallback is only a stand-in.
        guard case .admitting(let retryAfter?) = mode else { return [] }
        return circuitOpen(retryAfterNanoseconds: retryAfter)
    }

    private mutating func send(now: UInt64, onFallback: Bool) -> Actions {
        attemptUsesFallback = onFallback
        mode = .awaitingHead(startedAt: now)
        firstByteTimedOut = false
        return Actions(.startAttempt(number: attempt, onFallback: onFallback))
    }

    private mutating func circuitOpen(retryAfterNanoseconds: UInt64) -> Actions {
        mode = .idle
        let error = ProxyError(status: 503, type: "api_error", code: "upstream_circuit_open",
                               message: "the upstream is failing; requests are refused until it recovers")
        return Actions(.sendError(error, attempts: attempt, retryAfterNanoseconds: retryAfterNanoseconds))
    }

    /// The attempt's call was handed to the pool (and did not fail at once): its time to the
    /// first byte runs, capped at the retry deadline.
    mutating func attemptStarted() -> Actions {
        guard case .awaitingHead(let startedAt) = mode else { return [] }
        let deadline = retry.deadline
        let left = deadline > startedAt ? Int64(clamping: deadline - startedAt) : 0
        return Actions(.armFirstByteTimer(attempt: attempt, nanoseconds: min(firstByteTimeoutNanoseconds, left)))
    }

    /// The upstream request could not be built from the client's: nothing was sent.
    mutating func requestRejected(_ error: ProxyError) -> Actions {
        mode = .idle
        return Actions(.sendError(error, attempts: attempt, retryAfterNanoseconds: nil))
    }

    mutating func firstByteDeadlineReached(attempt number: Int) -> Actions {
        guard number == attempt, case .awaitingHead = mode else { return [] }
        firstByteTimedOut = true
        return Actions(.cancelCall)
    }

    // MARK: The upstream's answer

    /// `retryAfter` is the head's raw `Retry-After` header.
    mutating func headReceived(status: Int, retryAfter: String?, attempt number: Int, now: UInt64) -> Actions {
        guard number == attempt, case .awaitingHead = mode else { return [] }
        var actions = Actions(.cancelFirstByteTimer, .recordBreakerOutcome(CircuitBreakerOutcome(status: status)))
        if retry.isRetryable(status: status) {
            if case .retry(let delay) = retry.attemptFailed(.status(status, retryAfter: retryAfter), now: now) {
                mode = .discarding(retryAfterNanoseconds: delay)
                return actions
            }
        } else {
            _ = retry.responseStarted()
        }
        mode = .delivering
        actions.append(.writeHead(attempt: attempt, toTee: !attemptUsesFallback))
        return actions
    }

    mutating func bodyPartReceived(attempt number: Int) -> Actions {
        guard number == attempt, case .delivering = mode else { return [] }
        return Actions(.writeBodyPart)
    }

    /// After `writeBodyPart`: `streamComplete` is the tee's verdict (false without a tee: a
    /// `no-store` leader's flight ends with the upstream's body instead).
    mutating func bodyPartDelivered(streamComplete: Bool) -> Actions {
        guard case .delivering = mode, !answerComplete, streamComplete else { return [] }
        answerComplete = true
        return Actions(.completeFlight)
    }

    /// `clientGone`: the client left (its response is not whole).
    mutating func upstreamEnded(attempt number: Int, clientGone: Bool, abandoned: Bool) -> Actions {
        guard number == attempt else { return [] }
        switch mode {
        case .delivering:
            mode = .idle
            // Stored only when the whole answer was received by the client or by followers (a
            // stream that reached its last event was stored then).
            return Actions(.end(store: !clientGone || leadsFlight, completeFlight: !answerComplete))
        case .discarding(let delay):
            return scheduleRetry(after: delay, abandoned: abandoned)
        case .idle, .admitting, .awaitingHead:
            return []
        }
    }

    mutating func upstreamFailed(_ error: UpstreamCallError, attempt number: Int, now: UInt64, abandoned: Bool) -> Actions {
        guard number == attempt else { return [] }
        var actions = Actions(.cancelFirstByteTimer)
        switch mode {
        case .idle, .admitting:
            return actions
        case .delivering where answerComplete:
            // The connection broke after the stream's last event: the client has the whole
            // answer, so its message ends cleanly (stored and flown already).
            mode = .idle
            actions.append(.end(store: false, completeFlight: false))
        case .delivering:
            // Part of the answer is already with the client: only a cut connection tells it
            // the message is incomplete. Never retried, never stored.
            mode = .idle
            actions.append(.abort)
        case .discarding(let delay):
            for action in scheduleRetry(after: delay, abandoned: abandoned) { actions.append(action) }
        case .awaitingHead:
            let failure = Self.classify(error, firstByteTimedOut: firstByteTimedOut)
            actions.append(.recordBreakerOutcome(CircuitBreakerOutcome(failure)))
            let decided: Actions
            switch retry.attemptFailed(failure, now: now) {
            case .retry(let delay):
                decided = scheduleRetry(after: delay, abandoned: abandoned)
            case .giveUp(let reason, let lastFailure):
                decided = giveUp(reason, lastFailure: lastFailure ?? failure, error: error)
            case .deliver:
                decided = giveUp(.notRetryable, lastFailure: failure, error: error)
            }
            for action in decided { actions.append(action) }
        }
        return actions
    }

    private mutating func scheduleRetry(after delay: UInt64, abandoned: Bool) -> Actions {
        mode = .idle
        guard !abandoned else { return [] }
        return Actions(.scheduleRetry(afterNanoseconds: delay))
    }

    // MARK: The client

    mutating func clientLeft() -> Actions {
        // The OpenAI SDK hangs up right after `data: [DONE]`, before the upstream's body
        // ends: the answer is whole, the call ends by itself (or at its deadline).
        if answerComplete { return [] }
        // Followers still wait: the call goes on for them (and for the cache).
        if leadsFlight { return Actions(.leaderLeft) }
        return callAbandoned()
    }

    /// Nobody waits for the answer any more (the client, or the flight for all its waiters):
    /// stop the upstream call and any retry.
    mutating func callAbandoned() -> Actions {
        mode = .idle
        return Actions(.cancelFirstByteTimer, .cancelCall, .land)
    }

    // MARK: Giving up

    private mutating func giveUp(_ reason: RetryGiveUpReason, lastFailure: AttemptFailure?, error: UpstreamCallError?) -> Actions {
        mode = .idle
        let proxyError: ProxyError
        switch (reason, lastFailure) {
        case (.deadlineExceeded, _), (_, .timeoutBeforeFirstByte?):
            // The error's own words: its `ProxyError` message would say "upstream timed out" twice.
            proxyError = .upstreamTimeout(firstByteTimedOut
                ? "no response head within upstream.first_byte_timeout"
                : error?.description ?? "no answer within upstream.total_timeout")
        default:
            proxyError = error.map { Self.proxyError(for: $0) } ?? .upstreamUnreachable("gave up: \(reason.rawValue)")
        }
        return Actions(.sendError(proxyError, attempts: attempt, retryAfterNanoseconds: nil))
    }

    /// What a failed call says about the attempt, for the retry machine and the breaker.
    static func classify(_ error: UpstreamCallError, firstByteTimedOut: Bool) -> AttemptFailure {
        if firstByteTimedOut { return .timeoutBeforeFirstByte }
        switch error {
        case .connectFailed, .connectTimeout, .remoteClosed: return .connectError
        // A refused certificate is refused again on the next attempt: not retried (the client
        // learns at once what to fix), and counted against the breaker. Any other handshake
        // failure (a reset, a protocol alert) is a connect error like a refused TCP connect:
        // nothing reached the upstream application, a retry is safe.
        case .tlsFailed(let tls, _): return tls.isCertificateFailure ? .otherError : .connectError
        case .readTimeout, .deadlineExceeded: return .timeoutBeforeFirstByte
        case .cancelled, .badResponse: return .otherError
        }
    }

    /// Reprise's answer for an upstream failure before any byte reached the client.
    static func proxyError(for error: UpstreamCallError) -> ProxyError {
        switch error {
        case .connectTimeout, .readTimeout, .deadlineExceeded: .upstreamTimeout(error.description)
        case .remoteClosed, .badResponse: .upstreamBadResponse(error.description)
        case .tlsFailed: .upstreamTLSFailed(error.description)
        case .connectFailed, .cancelled: .upstreamUnreachable(error.description)
        }
    }
}
