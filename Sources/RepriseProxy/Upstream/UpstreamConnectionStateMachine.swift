import NIOCore
import NIOHTTP1

/// Every decision of one upstream connection, as values: `UpstreamConnection` feeds it events
/// (a call started by the pool, the decoder's response parts, reads asked for, the sink taking a
/// part, a wake-up, the channel's end) and runs the `Action` each returns. No I/O and no clock:
/// `now` is passed in, so a test is a list of events and the actions expected
/// (`UpstreamConnectionStateMachineTests`).
///
/// What it decides:
/// - A call: its request is written and a wake-up armed for the earlier of its total deadline
///   and the read timeout. 1xx heads (`100 Continue`, `103 Early Hints`) are skipped; the real
///   head decides keep-alive together with the request's.
/// - Back-pressure: after a body part, reads pause until the sink took it; a read asked for
///   meanwhile is held and passed on then.
/// - The end: a connection kept alive goes back to the pool (then the call finishes), any other
///   closes. A call abandoned mid-answer closes the connection: the rest of its answer would be
///   read as the next call's.
/// - Failures: the channel going inactive fails the call `.remoteClosed`; an error fails it
///   `.badResponse` (the decoder's) or `.remoteClosed` (any other) and closes.
/// - Timeouts, served by one wake-up: the call's total deadline (`.deadlineExceeded`), no byte
///   for `upstream.read_timeout` (`.readTimeout`), the end of an idle connection's rest (close).
/// - An answer nobody asked for closes the connection: it cannot be told apart from the start
///   of the next call's answer. (NIO's decoder reports one as an error,
///   `NIOHTTPDecoderError.unsolicitedResponse`; a part on a connection without a call is met
///   the same way.)
///
/// Not thread-safe: owned by the handler, used on its event loop.
struct UpstreamConnectionStateMachine {
    /// Where the connection stands. Every state but `closed` becomes `closed` when the channel
    /// goes inactive.
    ///
    /// - `idle`: open, without a call: new, or a call just ended and the pool decides next.
    ///   Can transition to: `inCall` (a call), `resting` (the pool keeps it), `closing`.
    /// - `resting(until)`: in the pool's idle list until `until`. Can transition to: `inCall`,
    ///   `closing` (the rest ended, the pool closes it, bytes nobody asked for).
    /// - `inCall(deadline, keepAlive)`: a request written, its answer awaited or read;
    ///   `keepAlive` is the request's wish, then also the response's. Can transition to: `idle`
    ///   (ended, kept alive), `closing` (ended otherwise, abandoned, error, timeout).
    /// - `closing`: closed or closing by our side, no call; events are ignored.
    /// - `closed`: the channel is inactive.
    enum State: Equatable {
        case idle
        case resting(until: NIODeadline)
        case inCall(deadline: NIODeadline, keepAlive: Bool)
        case closing
        case closed
    }

    /// `upstream.read_timeout`: the longest wait for the next byte of an answer.
    let readTimeout: TimeAmount
    private(set) var state = State.idle
    /// When the last response part arrived (or the current call started).
    private var lastReadAt = NIODeadline.uptimeNanoseconds(0)
    /// A body part went to the sink and was not taken yet: reads wait.
    private var readPaused = false
    /// A read the channel asked for while reads were paused.
    private var readPending = false

    init(readTimeout: TimeAmount) {
        self.readTimeout = readTimeout
    }

    // MARK: Calls

    /// The pool hands this connection a call. `requestKeepAlive`: the request's own wish
    /// (`HTTPRequestHead.isKeepAlive`); `deadline`: `upstream.total_timeout` from the call's start.
    mutating func callStarted(requestKeepAlive: Bool, deadline: NIODeadline, now: NIODeadline) -> Action {
        switch state {
        case .idle, .resting:
            state = .inCall(deadline: deadline, keepAlive: requestKeepAlive)
            lastReadAt = now
            return .sendRequest(wakeUpBy: min(deadline, now + readTimeout))
        case .inCall, .closing, .closed:
            // A connection that is going away (or busy, which the pool never does) takes no call.
            return .refuseCall(.remoteClosed)
        }
    }

    /// The pool keeps this connection, without a call, until `until`.
    mutating func restRequested(until: NIODeadline) -> Action {
        switch state {
        case .idle, .resting:
            state = .resting(until: until)
            return .armWakeUp(by: until)
        case .inCall, .closing, .closed:
            return .none
        }
    }

    /// The call no longer wants its answer (it was cancelled).
    mutating func callAbandoned() -> Action {
        guard case .inCall = state else { return .none }
        state = .closing
        return .forgetCallAndClose
    }

    /// The pool closes the connection (shutting down, or it has no use for it).
    mutating func closeRequested() -> Action {
        switch state {
        case .idle, .resting:
            state = .closing
            return .close
        case .inCall:
            // The pool never closes a busy connection; if it did, the call learns of it from
            // the channel going inactive.
            return .close
        case .closing, .closed:
            return .none
        }
    }

    // MARK: Inbound

    /// A part from the HTTP decoder.
    mutating func responsePartReceived(_ part: HTTPClientResponsePart, now: NIODeadline) -> Action {
        lastReadAt = now
        guard case .inCall(let deadline, let keepAlive) = state else { return answerNobodyAskedFor() }
        switch part {
        case .head(let head):
            // 1xx heads (100 Continue, 103 Early Hints) precede the real one; 101 would be final.
            if head.status.code >= 100 && head.status.code < 200 && head.status.code != 101 { return .none }
            state = .inCall(deadline: deadline, keepAlive: keepAlive && head.isKeepAlive)
            return .forwardHead(head)
        case .body(let part):
            readPaused = true
            return .forwardBodyPart(part)
        case .end:
            if keepAlive {
                state = .idle
                return .releaseAndFinishCall
            }
            state = .closing
            return .closeAndFinishCall
        }
    }

    private mutating func answerNobodyAskedFor() -> Action {
        switch state {
        case .idle, .resting:
            state = .closing
            return .close
        case .inCall, .closing, .closed:
            return .none
        }
    }

    /// The sink took the last part forwarded (its future completed).
    mutating func bodyPartTaken() -> Action {
        readPaused = false
        guard readPending else { return .none }
        readPending = false
        return .read
    }

    /// The pipeline asks to read: held while the sink has not taken a part.
    mutating func readRequested() -> Action {
        guard readPaused else { return .read }
        readPending = true
        return .none
    }

    /// The channel went inactive (closed by either side).
    mutating func channelInactive() -> Action {
        let previous = state
        state = .closed
        switch previous {
        case .inCall: return .reportClosedAndFailCall(.remoteClosed)
        case .idle, .resting, .closing: return .reportClosed
        case .closed: return .none
        }
    }

    /// An error in the pipeline: the decoder's (the answer is not valid HTTP/1.1) or any other.
    mutating func errorCaught(_ error: Error) -> Action {
        switch state {
        case .inCall:
            state = .closing
            return .closeAndFailCall(error is HTTPParserError ? .badResponse("\(error)") : .remoteClosed)
        case .idle, .resting:
            state = .closing
            return .close
        case .closing, .closed:
            return .none
        }
    }

    // MARK: Deadlines

    /// A wake-up came: acts on a deadline that passed, or asks for the next wake-up.
    mutating func wakeUpFired(now: NIODeadline) -> Action {
        switch state {
        case .inCall(let deadline, _):
            let readDeadline = lastReadAt + readTimeout
            if now >= deadline {
                state = .closing
                return .closeAndFailCall(.deadlineExceeded)
            }
            if now >= readDeadline {
                state = .closing
                return .closeAndFailCall(.readTimeout)
            }
            return .armWakeUp(by: min(deadline, readDeadline))
        case .resting(let until):
            if now >= until {
                state = .closing
                return .close
            }
            return .armWakeUp(by: until)
        case .idle, .closing, .closed:
            return .none
        }
    }
}
