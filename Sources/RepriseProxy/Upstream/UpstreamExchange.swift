import NIOCore
import NIOHTTP1
import RepriseCore

/// One client request's conversation with the upstream(s): admission by the circuit breaker
/// (or the fallback), attempts with a time-to-first-byte limit, retries with backoff while
/// nothing reached the client, then the chosen answer streamed to the client (and the tee).
///
/// The decisions are made by `UpstreamExchangeStateMachine` (with `RetryStateMachine` inside)
/// and the breakers; this class feeds it the events and runs the actions. It lives on the
/// client connection's event loop, like the writer it feeds.
final class UpstreamExchange {
    private let request: ProxyRequest
    private let writer: ResponseWriter
    private let targets: UpstreamTargets
    private let cacheStatus: CacheStatus
    private let tee: CacheTee?
    private let eventLoop: EventLoop
    private var machine: UpstreamExchangeStateMachine
    private var task: UpstreamCall?
    private var ticket: (breaker: CircuitBreaker, ticket: CircuitBreaker.Ticket)?
    private let totalDeadline: NIODeadline
    /// Set when this request leads a coalesced flight: followers receive what the client does.
    private let flight: Flight?
    private let onLanded: (() -> Void)?
    /// The attempt in progress: its number, its upstream's metric label, when it started.
    private var attempt: (number: Int, upstream: String, startedAt: NIODeadline)?

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
        writer.record.cache = cacheStatus
        let now = NIODeadline.now().uptimeNanoseconds
        let retry = RetryStateMachine(policy: targets.retryPolicy, budget: targets.primary.budget, startedAt: now)
        self.machine = UpstreamExchangeStateMachine(
            retry: retry, firstByteTimeoutNanoseconds: targets.firstByteTimeoutNanoseconds,
            hasFallback: targets.fallback != nil, leadsFlight: flight != nil)
        self.totalDeadline = NIODeadline.uptimeNanoseconds(retry.deadline)
    }

    func start() {
        flight?.onAbandoned = { [self] in run(machine.callAbandoned()) }
        writer.onClientGone { [self] in run(machine.clientLeft()) }
        run(machine.start(now: NIODeadline.now().uptimeNanoseconds, abandoned: abandoned))
    }

    /// True when neither the client nor a follower still wants the answer.
    private var abandoned: Bool {
        writer.clientGone && !(flight?.hasActiveFollowers ?? false)
    }

    // MARK: Running the machine's actions

    private func run(_ actions: UpstreamExchangeStateMachine.Actions) {
        for action in actions { run(action) }
    }

    private func run(_ action: UpstreamExchangeStateMachine.Action) {
        switch action {
        case .consultPrimaryBreaker:
            consultPrimaryBreaker()
        case .consultFallbackBreaker:
            consultFallbackBreaker()
        case .startAttempt(let number, let onFallback):
            startAttempt(number, on: onFallback ? targets.fallback! : targets.primary)
        case .armFirstByteTimer(_, let delay):
            // Served by the pool's one wake-up; the call's sink (`AttemptRelay`) reports it
            // with its attempt number.
            task?.watchFirstByte(until: .now() + .nanoseconds(delay))
        case .cancelFirstByteTimer:
            task?.endFirstByteWatch()
        case .recordBreakerOutcome(let outcome):
            recordBreaker(outcome)
        case .cancelCall:
            task?.cancel()
        case .scheduleRetry(let delay):
            eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(min(delay, UInt64(Int64.max))))) { [self] in
                run(machine.retryTimerFired(now: NIODeadline.now().uptimeNanoseconds, abandoned: abandoned))
            }
        case .writeHead:
            preconditionFailure("written by received(head:attempt:), which holds the head")
        case .writeBodyPart:
            preconditionFailure("written by received(body:attempt:), which holds the part")
        case .completeFlight:
            flight?.completed()
        case .end(let store, let completeFlight):
            if store { tee?.finished() }
            if completeFlight { flight?.completed() }
            land()
            writer.end()
        case .abort:
            flight?.cut()
            land()
            writer.abort()
        case .sendError(let error, let attempts, let retryAfter):
            sendError(error, attempts: attempts, retryAfterNanoseconds: retryAfter)
        case .leaderLeft:
            flight?.leaderLeft()
        case .land:
            land()
        }
    }

    private func land() {
        writer.record.upstreamEndedAt = .now()
        // The finished call must not keep this exchange alive.
        task?.endFirstByteWatch()
        task = nil
        onLanded?()
        // The flight's callback captures this exchange; the flight is over.
        flight?.onAbandoned = nil
    }

    // MARK: Attempts

    /// The primary's breaker (none admits); the ticket is kept for the attempt's outcome.
    private func consultPrimaryBreaker() {
        ticket = nil
        let now = NIODeadline.now().uptimeNanoseconds
        guard let breaker = targets.primary.breaker else { return run(machine.primaryBreakerAdmitted(now: now)) }
        switch breaker.admit(now: now) {
        case .allowed(let granted), .allowedAsProbe(let granted):
            ticket = (breaker, granted)
            run(machine.primaryBreakerAdmitted(now: now))
        case .rejected(let retryAfter):
            run(machine.primaryBreakerRejected(retryAfterNanoseconds: retryAfter, now: now))
        }
    }

    private func consultFallbackBreaker() {
        let now = NIODeadline.now().uptimeNanoseconds
        guard let breaker = targets.fallback?.breaker else { return run(machine.fallbackBreakerAdmitted(now: now)) }
        switch breaker.admit(now: now) {
        case .allowed(let granted), .allowedAsProbe(let granted):
            ticket = (breaker, granted)
            run(machine.fallbackBreakerAdmitted(now: now))
        case .rejected:
            run(machine.fallbackBreakerRejected(now: now))
        }
    }

    private func startAttempt(_ number: Int, on target: UpstreamTarget) {
        let now = NIODeadline.now()
        attempt = (number, target.metricLabel, now)
        writer.record.upstreamAttempts = number
        if writer.record.upstreamStartedAt == nil { writer.record.upstreamStartedAt = now }
        do throws(ProxyError) {
            let upstreamRequest = try target.client.makeUpstreamRequest(for: request, identityEncoding: tee != nil)
            task = target.client.connectionPool(on: eventLoop)
                .execute(upstreamRequest, deadline: totalDeadline, sink: AttemptRelay(exchange: self, attempt: number))
        } catch {
            return run(machine.requestRejected(error))
        }
        // Nothing when the call failed at once.
        run(machine.attemptStarted())
    }

    private func recordBreaker(_ outcome: CircuitBreakerOutcome) {
        guard let held = ticket else { return }
        ticket = nil
        _ = held.breaker.record(held.ticket, outcome: outcome, now: NIODeadline.now().uptimeNanoseconds)
    }

    // MARK: Called by AttemptRelay (on the event loop)

    /// Counts how attempt `number` ended (once: a late event of an attempt already counted is not).
    private func attemptEnded(_ number: Int, outcome: UpstreamAttemptOutcome, status: Int? = nil) {
        guard let current = attempt, current.number == number else { return }
        attempt = nil
        guard let metrics = writer.metrics else { return }
        metrics.upstreamAttempt(upstream: current.upstream, outcome: outcome, isRetry: number > 1)
        if let status {
            metrics.upstreamResponded(upstream: current.upstream, status: status, after: .now() - current.startedAt)
        }
    }

    fileprivate func received(head: HTTPResponseHead, attempt number: Int) {
        attemptEnded(number, outcome: .response, status: Int(head.status.code))
        let actions = machine.headReceived(
            status: Int(head.status.code), retryAfter: head.headers.first(name: "retry-after"),
            attempt: number, now: NIODeadline.now().uptimeNanoseconds)
        for action in actions {
            guard case .writeHead(let attempts, let toTee) = action else {
                run(action)
                continue
            }
            writeHead(head, attempts: attempts, toTee: toTee)
        }
    }

    private func writeHead(_ head: HTTPResponseHead, attempts: Int, toTee: Bool) {
        let relayed = RelayedResponseHead(head)
        if let upstreamID = relayed.upstreamRequestID { writer.record.upstreamRequestID = upstreamID }
        // The key names the primary's answer (its route and variant): a fallback's answer (another
        // model or provider, there only while the primary is down) is relayed, never stored
        // under it. A tee never given the head records nothing.
        if toTee { tee?.head(head) }
        flight?.received(status: head.status, relayed: relayed, attempts: attempts)
        let cacheStatus = cacheStatus
        writer.writeHead(status: head.status, contentLength: relayed.contentLength, headerBytes: relayed.headerBytes) { buffer in
            relayed.writeForwarded(into: &buffer)
            // `x-request-id` is Reprise's (the writer adds it); the upstream's own id, which its
            // support asks for, goes on as `x-upstream-request-id`.
            if let upstreamID = relayed.upstreamRequestID {
                ResponseHeadEncoder.writeHeader(name: "x-upstream-request-id", value: upstreamID, into: &buffer)
            }
            ResponseHeadEncoder.writeHeader(name: "x-cache", value: cacheStatus.headerValue, into: &buffer)
            buffer.writeStaticString("x-reprise-attempts: ")
            ResponseHeadEncoder.writeDecimal(attempts, into: &buffer)
            buffer.writeStaticString("\r\n")
        }
    }

    fileprivate func received(body: ByteBuffer, attempt number: Int) -> EventLoopFuture<Void> {
        var written: EventLoopFuture<Void>?
        for action in machine.bodyPartReceived(attempt: number) {
            guard case .writeBodyPart = action else {
                run(action)
                continue
            }
            tee?.body(body)
            flight?.received(part: body)
            written = writer.writeBodyPart(body)
            run(machine.bodyPartDelivered(streamComplete: tee?.streamComplete == true))
        }
        return written ?? eventLoop.makeSucceededVoidFuture()
    }

    fileprivate func firstByteTimedOut(attempt number: Int) {
        attemptEnded(number, outcome: .timeout)
        run(machine.firstByteDeadlineReached(attempt: number))
    }

    fileprivate func finished(attempt number: Int) {
        run(machine.upstreamEnded(attempt: number, clientGone: writer.clientGone, abandoned: abandoned))
    }

    fileprivate func failed(_ error: UpstreamCallError, attempt number: Int) {
        attemptEnded(number, outcome: UpstreamAttemptOutcome(error))
        run(machine.upstreamFailed(error, attempt: number, now: NIODeadline.now().uptimeNanoseconds, abandoned: abandoned))
    }

    private func sendError(_ error: ProxyError, attempts: Int, retryAfterNanoseconds: UInt64?) {
        var headers = HTTPHeaders()
        if let retryAfterNanoseconds {
            headers.add(name: "retry-after", value: RetryAfter.headerValue(nanoseconds: retryAfterNanoseconds))
        }
        headers.add(name: "x-cache", value: cacheStatus.headerValue)
        headers.add(name: "x-reprise-attempts", value: String(attempts))
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
        exchange.received(head: head, attempt: attempt)
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

    func upstreamFirstByteTimedOut() {
        exchange.firstByteTimedOut(attempt: attempt)
    }
}
