extension FlightStateMachine {
    /// What the runner (`Flight`) does for one decision of the machine. Every follower action
    /// runs on that follower's event loop and does nothing once its client left.
    enum Action: Equatable, Sendable {
        /// Write the answer's head (the headers a stored answer keeps) and the parts buffered so
        /// far; the follower then receives each part as it arrives.
        case sendHeadAndBacklog(FlightFollowerID)
        /// Write the part just received to these followers (those receiving, in joining order),
        /// and append it to the backlog when `buffer` (late joiners and the other shape need it).
        case sendPart(to: [FlightFollowerID], buffer: Bool)
        /// The answer is whole: end the follower's response.
        case endFollower(FlightFollowerID)
        /// The answer broke after the follower got part of it: only a cut connection tells it.
        case abortFollower(FlightFollowerID)
        /// Reprise's own error (no upstream head came), with the leader's error headers.
        case sendError(FlightFollowerID, ProxyError)
        /// The whole answer converted to the shape the follower asked for. When it does not
        /// convert, the runner reports `conversionFailed`.
        case sendConvertedAnswer(FlightFollowerID, shape: ReplayShape)
        /// The flight cannot serve this follower: it makes its own upstream call (`goAlone`),
        /// unless its client left.
        case handBack(FlightFollowerID)
        /// The answer outgrew `maxEntryBytes`: free the buffered parts; nothing is buffered again.
        case dropBacklog
        /// Nobody waits for the answer any more: stop the upstream call (`onAbandoned`).
        case abandonCall
    }
}
