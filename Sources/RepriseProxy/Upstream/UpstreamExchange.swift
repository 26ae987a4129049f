import NIOCore
import NIOHTTP1
import RepriseCore

/// One client request's conversation with the upstream(s): admission by the circuit breaker
/// (or the fallback), attempts with a time-to-first-byte limit, retries with backoff while
/// nothing reached the client, then the chosen answer streamed to the client (and the tee).
///
/// The decisions are made by `RetryStateMachine` and `CircuitBreaker`; this class runs the
/// actions. It lives on the client connection's event loop, like the writer it feeds.
final class UpstreamExchange {
    private enum AttemptMode {
        /// Waiting for the response head.
        case awaitingHead
        /// This attempt's answer goes to the client.
        case delivering
        /// A retry was decided: the rest of this attempt is dropped, then the next one starts.
        case discarding(retryAfterNanoseconds: UInt64)
        case done
    }

    private let request: ProxyRequest
    private let writer: ResponseWriter
    private let targets: UpstreamTargets
    private let cacheStatus: CacheStatus
    private let tee: CacheTee?
    private let eventLoop: EventLoop
    private var retry: RetryStateMachine
    private var attempt = 0
    private var mode = AttemptMode.done
    private var task: UpstreamCall?
    private var firstByteTimer: Scheduled<Void>?
    private var firstByteTimedOut = false
    private var ticket: (breaker: CircuitBreaker, ticket: CircuitBreaker.Ticket)?
    /// This attempt went to `upstream.fallback_url` (the primary's breaker is open).
    private var attemptUsesFallback = false
    private let totalDeadline: NIODeadline
    /// Set when this request leads a coalesced flight: followers receive what the client does.
    private let flight: Flight?
    private let onLanded: (() -> Void)?
    /// The streamed answer reached its last event (the tee's verdict): it is whole, was stored,
    /// and the flight ended there. The rest of the upstream body is read only to keep the
    /// connection, so a client hanging up now cancels nothing.
    private var answerComplete = false

    init(
        request: ProxyRequest, writer: ResponseWriter, targets: UpstreamTargets, cacheStatus: CacheStatus, tee: CacheTee?,
        flight: Flight? = nil, onLanded: (() -> Void)? = nil
    ) {
        self.flight = flight
        self.onLanded = onLanded
        self.request = request
        self.writer = writer
        self.targets = targets
        self.cacheStatus = cacheStatus
        self.tee = tee
        self.eventLoop = writer.eventLoop
        let now = NIODeadline.now().uptimeNanoseconds
        self.retry = RetryStateMachine(policy: targets.retryPolicy, budget: targets.primary.budget, startedAt: now)
        self.totalDeadline = NIODeadline.uptimeNanoseconds(retry.deadline)
    }

    func start() {
        flight?.onAbandoned = { [self] in cancel() }
        writer.onClientGone { [self] in
            // The OpenAI SDK hangs up right after `data: [DONE]`, before the upstream's body
            // ends: the answer is whole, the call ends by itself (or at its deadline).
            if answerComplete { return }
            if let flight {
                // Followers still wait: the call goes on for them (and for the cache).
                flight.leaderLeft()
            } else {
                cancel()
            }
        }
        startAttempt()
    }

    /// Nobody waits for the answer any more: stop the upstream call and any retry.
    private func cancel() {
        mode = .done
        firstByteTimer?.cancel()
        task?.cancel()
        land()
    }

    /// True when neither the client nor a follower still wants the answer.
    private var abandoned: Bool {
        writer.clientGone && !(flight?.hasActiveFollowers ?? false)
    }

    private func land() {
        // The finished call must not keep this exchange alive.
        task = nil
        firstByteTimer = nil
        onLanded?()
        // The flight's callback captures this exchange; the flight is over.
        flight?.onAbandoned = nil
    }

    // MARK: Attempts

    private func startAttempt() {
        guard !abandoned else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        switch retry.startAttempt(now: now) {
        case .giveUp(let reason, let lastFailure):
            giveUp(reason, lastFailure: lastFailure)
            return
        case .start(let number, _):
            attempt = number
        }
        guard let target = admit(now: now) else { return }
        mode = .awaitingHead
        firstByteTimedOut = false
        let thisAttempt = attempt
        do {
            let upstreamRequest = try target.client.makeUpstreamRequest(for: request, identityEncoding: tee != nil)
            task = target.client.connectionPool(on: eventLoop)
                .execute(upstreamRequest, deadline: totalDeadline, sink: AttemptRelay(exchange: self, attempt: thisAttempt))
        } catch let error as ProxyError {
            finish(error: error)
            return
        } catch {
            finish(error: .badRequest("\(error)"))
            return
        }
        guard case .awaitingHead = mode, attempt == thisAttempt else { return }  // failed at once
        let firstByteDelay = min(targets.firstByteTimeoutNanoseconds, totalDeadline.uptimeNanoseconds > now ? Int64(totalDeadline.uptimeNanoseconds - now) : 0)
        firstByteTimer = eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(firstByteDelay)) { [self] in
            guard attempt == thisAttempt, case .awaitingHead = mode else { return }
            firstByteTimedOut = true
            task?.cancel()
        }
    }

    /// The upstream for this attempt: the primary when its breaker admits, else the fallback,
    /// else a 503 (circuit open) with `Retry-After`; nil when answered.
    private func admit(now: UInt64) -> UpstreamTarget? {
        ticket = nil
        attemptUsesFallback = false
        guard let breaker = targets.primary.breaker else { return targets.primary }
        switch breaker.admit(now: now) {
        case .allowed(let granted), .allowedAsProbe(let granted):
            ticket = (breaker, granted)
            return targets.primary
        case .rejected(let retryAfter):
            if let fallback = targets.fallback {
                if let fallbackBreaker = fallback.breaker {
                    switch fallbackBreaker.admit(now: now) {
                    case .allowed(let granted), .allowedAsProbe(let granted):
                        ticket = (fallbackBreaker, granted)
                        attemptUsesFallback = true
                        return fallback
                    case .rejected:
                        break
                    }
                } else {
                    attemptUsesFallback = true
                    return fallback
                }
            }
            var headers = HTTPHeaders()
            headers.add(name: "retry-after", value: RetryAfter.headerValue(nanoseconds: retryAfter))
            finish(error: ProxyError(status: 503, type: "api_error", code: "upstream_circuit_open",
                                     message: "the upstream is failing; requests are refused until it recovers"),
                   extraHeaders: headers)
            return nil
        }
    }

    private func recordBreaker(_ outcome: CircuitBreakerOutcome) {
        guard let held = ticket else { return }
        ticket = nil
        _ = held.breaker.record(held.ticket, outcome: outcome, now: NIODeadline.now().uptimeNanoseconds)
    }

    // MARK: Called by AttemptRelay (on the event loop)

    fileprivate func received(head: HTTPResponseHead, attempt number: Int) -> Bool {
        guard number == attempt, case .awaitingHead = mode else { return false }
        firstByteTimer?.cancel()
        let status = Int(head.status.code)
        recordBreaker(CircuitBreakerOutcome(status: status))
        if retry.isRetryable(status: status) {
            let action = retry.attemptFailed(.status(status, retryAfter: head.headers.first(name: "retry-after")), now: NIODeadline.now().uptimeNanoseconds)
            if case .retry(let delay) = action {
                mode = .discarding(retryAfterNanoseconds: delay)
                return false
            }
        } else {
            _ = retry.responseStarted()
        }
        mode = .delivering
        var headers = HopByHopHeaders.removing(from: head.headers, alsoRemoving: UpstreamClient.responseHeadersNotForwarded)
        headers.add(name: "x-cache", value: cacheStatus.headerValue)
        headers.add(name: "x-reprise-attempts", value: String(attempt))
        let isChunked = head.headers["transfer-encoding"].contains { $0.lowercased().contains("chunked") }
        let contentLength = isChunked ? nil : head.headers.first(name: "content-length").flatMap(Int.init)
        // The key names the primary's answer (its route and variant): a fallback's answer (another
        // model or provider, there only while the primary is down) is relayed, never stored
        // under it. A tee never given the head records nothing.
        if !attemptUsesFallback { tee?.head(head) }
        flight?.received(status: head.status, headers: headers, contentLength: contentLength)
        writer.writeHead(status: head.status, headers: headers, contentLength: contentLength)
        return true
    }

    fileprivate func received(body: ByteBuffer, attempt number: Int) -> EventLoopFuture<Void> {
        guard number == attempt, case .delivering = mode else { return eventLoop.makeSucceededVoidFuture() }
        tee?.body(body)
        flight?.received(part: body)
        let written = writer.writeBodyPart(body)
        // Without a tee (a `no-store` leader) the flight ends with the upstream's body instead.
        if !answerComplete, tee?.streamComplete == true {
            answerComplete = true
            flight?.completed()
        }
        return written
    }

    fileprivate func finished(attempt number: Int) {
        guard number == attempt else { return }
        switch mode {
        case .delivering:
            mode = .done
            // Stored only when the whole answer was received by the client or by followers (a
            // stream that reached its last event was stored then).
            if !writer.clientGone || flight != nil { tee?.finished() }
            if !answerComplete { flight?.completed() }
            land()
            writer.end()
        case .discarding(let delay):
            scheduleRetry(after: delay)
        case .awaitingHead, .done:
            break
        }
    }

    fileprivate func failed(_ error: UpstreamCallError, attempt number: Int) {
        guard number == attempt else { return }
        firstByteTimer?.cancel()
        switch mode {
        case .done:
            return
        case .delivering where answerComplete:
            // The connection broke after the stream's last event: the client has the whole
            // answer, so its message ends cleanly (stored and flown already).
            mode = .done
            land()
            writer.end()
        case .delivering:
            // Part of the answer is already with the client: only a cut connection tells it
            // the message is incomplete. Never retried, never stored.
            mode = .done
            flight?.cut()
            land()
            writer.abort()
        case .discarding(let delay):
            scheduleRetry(after: delay)
        case .awaitingHead:
            let failure = classify(error)
            recordBreaker(CircuitBreakerOutcome(failure))
            switch retry.attemptFailed(failure, now: NIODeadline.now().uptimeNanoseconds) {
            case .retry(let delay):
                scheduleRetry(after: delay)
            case .giveUp(let reason, let lastFailure):
                giveUp(reason, lastFailure: lastFailure ?? failure, error: error)
            case .deliver:
                giveUp(.notRetryable, lastFailure: failure, error: error)
            }
        }
    }

    private func scheduleRetry(after delay: UInt64) {
        mode = .done
        guard !abandoned else { return }
        eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(min(delay, UInt64(Int64.max))))) { [self] in
            startAttempt()
        }
    }

    private func classify(_ error: UpstreamCallError) -> AttemptFailure {
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

    private func giveUp(_ reason: RetryGiveUpReason, lastFailure: AttemptFailure?, error: UpstreamCallError? = nil) {
        mode = .done
        let proxyError: ProxyError
        switch (reason, lastFailure) {
        case (.deadlineExceeded, _), (_, .timeoutBeforeFirstByte?):
            proxyError = .upstreamTimeout(firstByteTimedOut
                ? "no response head within upstream.first_byte_timeout"
                : error.map { UpstreamExchange.proxyError(for: $0).message } ?? "no answer within upstream.total_timeout")
        default:
            proxyError = error.map { UpstreamExchange.proxyError(for: $0) } ?? .upstreamUnreachable("gave up: \(reason.rawValue)")
        }
        finish(error: proxyError)
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

    private func finish(error: ProxyError, extraHeaders: HTTPHeaders = HTTPHeaders()) {
        mode = .done
        var headers = extraHeaders
        headers.add(name: "x-cache", value: cacheStatus.headerValue)
        headers.add(name: "x-reprise-attempts", value: String(attempt))
        flight?.failed(error, headers: headers)
        land()
        guard !writer.clientGone, !writer.headWritten else { return }
        writer.send(error: error, extraHeaders: headers)
    }
}

/// The sink of one attempt on the upstream's connection pool; forwards to the exchange with its
/// attempt number (so events of an abandoned attempt are ignored), on the exchange's event loop
/// (the pool's).
private final class AttemptRelay: UpstreamResponseSink {
    private let exchange: UpstreamExchange
    private let attempt: Int

    init(exchange: UpstreamExchange, attempt: Int) {
        self.exchange = exchange
        self.attempt = attempt
    }

    func upstreamHead(_ head: HTTPResponseHead) {
        _ = exchange.received(head: head, attempt: attempt)
    }

    func upstreamBody(_ part: ByteBuffer) -> EventLoopFuture<Void> {
        exchange.received(body: part, attempt: attempt)
    }

    func upstreamEnd() {
        exchange.finished(attempt: attempt)
    }

    func upstreamFailed(_ error: UpstreamCallError) {
        exchange.failed(error, attempt: attempt)
    }
}
