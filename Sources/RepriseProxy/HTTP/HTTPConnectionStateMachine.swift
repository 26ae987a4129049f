import NIOCore
import NIOHTTP1
import RepriseHTTP

/// Every decision of one client connection, as values: `HTTPConnectionHandler` feeds it events
/// (what the request parser read, the end of a response, writability, reads asked for, a wake-up) and
/// runs the `Action` each returns. No I/O and no clock: `now` is passed in, so a test is a list
/// of events and the actions expected (`HTTPConnectionStateMachineTests`).
///
/// What it decides:
/// - Limits: a head over `server.max_header_bytes` (431), a `Content-Length` or a body over
///   `server.max_body_bytes` (413), a request not received within `server.request_timeout` (408),
///   a connection idle for `server.idle_timeout` (closed). An answer given before the request
///   was read whole ends the connection with a lingering close.
/// - Refusal: a connection over `server.max_connections` is answered 503 at once, or on a TLS
///   listener once the handshake completed (the client cannot read an answer it has no keys for).
/// - Pipelining: while a response is in progress the parts of following requests are queued and
///   reads are held back, so a client that pipelines cannot make the proxy buffer without bound.
///   A queued request starts only while the channel is writable: a client that pipelines and
///   never reads its answers stops being read once about one high-water mark of answers waits
///   for it (answers written without an upstream, hits and `/healthz`, have no other
///   back-pressure). The handler starts queued requests in a loop (`nextQueuedPart(now:)`), and a
///   response that ends inside that loop returns to it instead of nesting another.
/// - Drain: an idle connection closes at once; a busy one after its current response.
///
/// One deadline at a time (`ConnectionDeadline`); none while a response is produced (the
/// upstream side has its own timeouts).
///
/// Not thread-safe: owned by the handler, used on its event loop.
struct HTTPConnectionStateMachine {
    /// Where the connection stands. Every state can also become `closing` when the channel goes
    /// inactive.
    ///
    /// - `idle`: waiting for a request head; the idle deadline runs (not while a refusal waits
    ///   for the TLS handshake). Can transition to: `receiving` (a head), `answeringError` (a
    ///   refusal, a head over a limit, a broken stream), `closing` (idle deadline, drain).
    /// - `receiving`: head received, body arriving; the request deadline runs.
    ///   Can transition to: `responding` (the end), `answeringError` (413, 408, 400).
    /// - `responding`: the responder produces an answer; later request parts are queued.
    ///   Can transition to: `idle` (kept alive), `closing` (not kept alive, draining, aborted).
    /// - `answeringError`: an answer that ends the connection is being written.
    ///   Can transition to: `lingering` (written).
    /// - `lingering`: the output is closed; what the client still sends is read and dropped until
    ///   the linger deadline. Can transition to: `closing`.
    /// - `closing`: the connection is closed or closing; events are ignored.
    /// - `modifying`: only inside a mutating method (lets the body buffer be appended in place).
    private enum State {
        case idle
        case receiving(head: ParsedRequestHead, body: ByteBuffer?, receivedAt: NIODeadline)
        case responding
        case answeringError
        case lingering
        case closing
        case modifying
    }

    /// How long unread request bytes are drained after an early answer before the close.
    static let lingerTime = TimeAmount.seconds(2)

    private let limits: ConnectionLimits
    /// Set for a connection over `server.max_connections`: it is answered 503 and closed.
    private let refusal: ConnectionRefusal?
    private var state = State.idle
    /// Parts of pipelined requests that arrived while a response was in progress (or while the
    /// client was not taking its answers), in order.
    private var queuedParts = CircularBuffer<RequestParseEvent>()
    /// A read was asked for and held back; it is passed on once the queue is empty.
    private var readPending = false
    /// A response ended while the channel was not writable: the next request waits (queued,
    /// reads held) until the channel is writable again.
    private var waitingForWritability = false
    /// The handler runs the pipelining loop: a response that ends inside it returns to that
    /// loop instead of starting another.
    private var startingQueuedRequests = false
    /// When the current phase (idle, receiving a request, lingering) times out.
    private(set) var deadline: ConnectionDeadline?
    /// A graceful shutdown asked this connection to close after its current response.
    private(set) var isDraining = false

    init(limits: ConnectionLimits, refusal: ConnectionRefusal?) {
        self.limits = limits
        self.refusal = refusal
    }

    /// Parts waiting in the pipelining queue.
    var queuedPartCount: Int { queuedParts.count }

    // MARK: Lifecycle

    /// The channel is active (or the handler was added to an active one).
    mutating func connectionStarted(now: NIODeadline) -> Action {
        guard case .idle = state else { return .none }
        guard let refusal else { return .armDeadline(arm(.idle, after: limits.idleTimeout, now: now)) }
        return refusal.afterTLSHandshake ? .none : refuse(refusal)
    }

    mutating func tlsHandshakeCompleted() -> Action {
        guard let refusal, case .idle = state else { return .none }
        return refuse(refusal)
    }

    private mutating func refuse(_ refusal: ConnectionRefusal) -> Action {
        answerError(refusal.error, head: nil, retryAfterSeconds: 1)
    }

    /// The channel went inactive: everything queued is dropped and every later event ignored.
    mutating func channelInactive() -> Action {
        let responseInProgress: Bool
        switch state {
        case .responding, .answeringError: responseInProgress = true
        case .idle, .receiving, .lingering, .closing, .modifying: responseInProgress = false
        }
        enterClosing()
        deadline = nil
        return responseInProgress ? .notifyClientLeft : .none
    }

    /// A graceful shutdown: an idle connection closes now, a busy one after its response (whose
    /// writer reads `isDraining` and answers `connection: close`).
    mutating func drainRequested() -> Action {
        isDraining = true
        guard case .idle = state else { return .none }
        enterClosing()
        return .close
    }

    // MARK: Inbound

    /// What the request parser read next: a head, body bytes, the end of a request.
    mutating func requestPartReceived(_ part: RequestParseEvent, now: NIODeadline) -> Action {
        switch state {
        case .responding:
            queuedParts.append(part)
            return .none
        case .idle where waitingForWritability || !queuedParts.isEmpty:
            queuedParts.append(part)
            return .none
        case .idle, .receiving:
            return handle(part, now: now)
        case .answeringError, .lingering, .closing, .modifying:
            // The connection ends after the current answer: nothing more is served.
            return .none
        }
    }

    private mutating func handle(_ part: RequestParseEvent, now: NIODeadline) -> Action {
        switch (state, part) {
        case (.idle, .head(let head)):
            deadline = nil
            if let problem = check(head) { return answerError(problem, head: head) }
            state = .receiving(head: head, body: nil, receivedAt: now)
            let requestDeadline = arm(.request, after: limits.requestTimeout, now: now)
            if head.framing.expectsContinue {
                return .sendContinueAndArmDeadline(requestDeadline)
            }
            return .armDeadline(requestDeadline)

        case (.receiving(let head, var body, let receivedAt), .body(var chunk)):
            let total = (body?.readableBytes ?? 0) + chunk.readableBytes
            if total > limits.maxBodyBytes { return answerError(.bodyTooLarge(limit: limits.maxBodyBytes), head: head) }
            state = .modifying  // drop the state's reference to the buffer so appending does not copy
            if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
            state = .receiving(head: head, body: body, receivedAt: receivedAt)
            return .none

        case (.receiving(let head, let body, let receivedAt), .end):
            deadline = nil
            state = .responding
            return .respond(head: head, body: body, receivedAt: receivedAt, keepAlive: head.framing.keepAlive && !isDraining)

        case (.idle, .body), (.idle, .end), (.receiving, .head):
            // The parser never produces these orders; treat them as a broken stream.
            return answerError(.badRequest("malformed HTTP request"), head: nil)

        case (.responding, _), (.answeringError, _), (.lingering, _), (.closing, _), (.modifying, _):
            return .none
        }
    }

    private func check(_ head: ParsedRequestHead) -> ProxyError? {
        // Counted as before the parser read bytes: the target, each name and value with 4
        // bytes of framing, 16 for the request line.
        var headerBytes = head.target.count + 16
        for field in head.fields {
            headerBytes += field.name.count + field.value.count + 4
        }
        if headerBytes > limits.maxHeaderBytes {
            return .headersTooLarge(limit: limits.maxHeaderBytes)
        }
        // The parser refuses a length that is not a decimal number, one that overflows 64 bits
        // and two that differ.
        if let length = head.framing.contentLength, length > UInt64(limits.maxBodyBytes) {
            return .bodyTooLarge(limit: limits.maxBodyBytes)
        }
        return nil
    }

    /// The bytes are not a request the parser accepts: a head over the parser's bounds is
    /// answered 431, anything else 400, while no response is on the wire; the connection ends.
    mutating func requestUnreadable(_ error: RequestParseError) -> Action {
        switch state {
        case .idle, .receiving:
            // Named as NIO's decoder named it (`HTTPParserError`), the text clients have seen.
            let answer: ProxyError = if case .headTooLarge = error.kind {
                .headersTooLarge(limit: limits.maxHeaderBytes)
            } else {
                .badRequest("malformed HTTP request: \(HTTPParserError(error))")
            }
            return answerError(answer, head: nil)
        case .responding, .answeringError, .lingering, .closing, .modifying:
            // A response is already on the wire; the connection cannot carry an error answer.
            return .close
        }
    }

    /// An error in the pipeline (TLS, the socket): the connection closes. The state stays:
    /// `channelInactive` follows and tells a running response.
    mutating func errorCaught(_ error: Error) -> Action {
        .close
    }

    /// Answers a request that cannot be served; the connection ends after it, and the rest of
    /// the request is never read as a request.
    private mutating func answerError(_ error: ProxyError, head: ParsedRequestHead?, retryAfterSeconds: Int? = nil) -> Action {
        .answerError(startErrorAnswer(error, head: head, retryAfterSeconds: retryAfterSeconds))
    }

    private mutating func startErrorAnswer(_ error: ProxyError, head: ParsedRequestHead?, retryAfterSeconds: Int? = nil) -> ConnectionErrorAnswer {
        deadline = nil
        state = .answeringError
        return ConnectionErrorAnswer(error: error, head: head, retryAfterSeconds: retryAfterSeconds)
    }

    // MARK: Responses

    /// The current response's writer ended it. `isWritable`: the channel's writability now.
    mutating func responseEnded(keepAlive: Bool, isWritable: Bool, now: NIODeadline) -> Action {
        switch state {
        case .answeringError:
            state = .lingering
            dropQueue()
            return .closeOutputAndLinger
        case .responding:
            break
        case .idle, .receiving, .lingering, .closing, .modifying:
            return .none
        }
        if !keepAlive || isDraining {
            enterClosing()
            return .close
        }
        state = .idle
        let idleDeadline = arm(.idle, after: limits.idleTimeout, now: now)
        if !isWritable { waitingForWritability = true }
        // Inside the loop, or nothing for a loop to do (the usual keep-alive request): arm only.
        guard !startingQueuedRequests, !waitingForWritability, !queuedParts.isEmpty || readPending else {
            return .armDeadline(idleDeadline)
        }
        startingQueuedRequests = true
        return .armDeadlineAndStartQueuedRequests(idleDeadline)
    }

    /// The current response's writer cut the connection (an upstream stream broke after the
    /// head went out).
    mutating func responseAborted() -> Action {
        enterClosing()
        return .close
    }

    /// One step of the pipelining loop that `.startQueuedRequests` and
    /// `.armDeadlineAndStartQueuedRequests` ask for: the handler runs each action returned until
    /// this returns nil. Serves queued parts in order while the connection accepts them and the
    /// client takes its answers; then passes on a held read.
    mutating func nextQueuedPart(now: NIODeadline) -> Action? {
        guard startingQueuedRequests else { return nil }
        if !waitingForWritability, acceptsRequestParts {
            if let part = queuedParts.popFirst() { return handle(part, now: now) }
            if readPending {
                // The loop is still marked running while the handler reads, as it always was.
                readPending = false
                return .read
            }
        }
        startingQueuedRequests = false
        return nil
    }

    /// Idle or receiving: the next request part can be handled now rather than queued.
    private var acceptsRequestParts: Bool {
        switch state {
        case .idle, .receiving: return true
        case .responding, .answeringError, .lingering, .closing, .modifying: return false
        }
    }

    // MARK: Flow control

    mutating func writabilityChanged(isWritable: Bool) -> Action {
        guard isWritable, waitingForWritability else { return .none }
        waitingForWritability = false
        // A loop already running sees the change at its next step.
        guard !startingQueuedRequests else { return .none }
        startingQueuedRequests = true
        return .startQueuedRequests
    }

    /// The pipeline asks to read. Held while a next request is already queued, or while the
    /// client has not taken the answers already written; a connection that is going away reads
    /// (and drops) what comes.
    mutating func readRequested() -> Action {
        switch state {
        case .lingering, .closing:
            return .read
        case .idle, .receiving, .responding, .answeringError, .modifying:
            if waitingForWritability || !queuedParts.isEmpty {
                readPending = true
                return .none
            }
            return .read
        }
    }

    /// The output closed after an early answer (`.closeOutputAndLinger`), or failed to.
    mutating func outputClosed(now: NIODeadline) -> Action {
        guard case .lingering = state else { return .none }
        return .readUntil(arm(.linger, after: Self.lingerTime, now: now))
    }

    // MARK: Deadlines

    /// A wake-up came: acts on the deadline if it passed, or asks for a later wake-up.
    mutating func wakeUpFired(now: NIODeadline) -> Action {
        guard let deadline else { return .none }
        if now < deadline.due { return .armDeadline(deadline) }
        self.deadline = nil
        switch deadline.kind {
        case .idle:
            guard case .idle = state else { return .none }
            enterClosing()
            return .close
        case .request:
            guard case .receiving(let head, _, _) = state else { return .none }
            return .requestTimedOut(startErrorAnswer(
                .requestTimeout("the request was not received completely within server.request_timeout"), head: head
            ))
        case .linger:
            enterClosing()
            return .close
        }
    }

    private mutating func arm(_ kind: ConnectionDeadline.Kind, after delay: TimeAmount, now: NIODeadline) -> ConnectionDeadline {
        let deadline = ConnectionDeadline(kind: kind, due: now + delay)
        self.deadline = deadline
        return deadline
    }

    private mutating func enterClosing() {
        state = .closing
        dropQueue()
    }

    /// Queued requests are never served once the connection ends.
    private mutating func dropQueue() {
        // `removeAll()` allocates a fresh buffer: skip it in the usual case.
        if !queuedParts.isEmpty { queuedParts.removeAll() }
    }
}
