import NIOCore
import RepriseHTTP

extension HTTPConnectionStateMachine {
    /// What `HTTPConnectionHandler` does after an event. The machine has already moved to its
    /// next state when it returns one; running an action may feed further events (a response
    /// answered at once ends inside `respond`), which is why no action needs a second step.
    enum Action: Equatable {
        /// Nothing to do: a part was queued, a read held back, or the event changes nothing.
        case none

        /// Make sure a wake-up comes by `deadline.due`, then report it with `wakeUpFired(now:)`.
        /// The machine keeps the deadline; a wake-up already due earlier serves.
        case armDeadline(ConnectionDeadline)

        /// A head asking `Expect: 100-continue` was accepted: write `100 Continue` (the client
        /// waits for it before sending the body), then arm `deadline`.
        case sendContinueAndArmDeadline(ConnectionDeadline)

        /// A complete request: hand it to the responder with a new `ResponseWriter` that keeps
        /// the connection alive after the response or not. Its end comes back as `responseEnded`.
        case respond(head: ParsedRequestHead, body: ByteBuffer?, receivedAt: NIODeadline, keepAlive: Bool)

        /// Write `answer` with a new writer that does not keep the connection alive; its end
        /// comes back as `responseEnded`, which lingers and closes.
        case answerError(ConnectionErrorAnswer)

        /// As `answerError` (a 408), for a request that did not arrive within
        /// `server.request_timeout`: the handler also logs it.
        case requestTimedOut(ConnectionErrorAnswer)

        /// Close the connection.
        case close

        /// Close the output only; when that completes, report `outputClosed(now:)`. Closing a
        /// socket with unread input makes the kernel send a reset, which can destroy the answer
        /// before the client reads it (nginx calls what follows a lingering close).
        case closeOutputAndLinger

        /// Lingering: read (and drop) what the client still sends until `deadline`.
        case readUntil(ConnectionDeadline)

        /// Pass a read on: a read held back while requests were queued, now that the queue is
        /// empty, or a read that needs no holding.
        case read

        /// A response ended and the connection is kept alive: arm the idle `deadline`, then run
        /// the pipelining loop (see `startQueuedRequests`).
        case armDeadlineAndStartQueuedRequests(ConnectionDeadline)

        /// The client took its answers: run the pipelining loop (see `startQueuedRequests`).
        case startQueuedRequests

        /// The client left while a response was in progress: tell its writer, so the producer
        /// (an upstream stream) stops.
        case notifyClientLeft
    }
}
