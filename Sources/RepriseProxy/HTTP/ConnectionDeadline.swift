import NIOCore

/// The one deadline a client connection has at a time, and what its passing means.
///
/// `HTTPConnectionStateMachine` keeps it; the handler only makes sure a wake-up comes by `due`
/// (see `DeadlineWakeUp`) and then reports the time with `wakeUpFired(now:)`.
struct ConnectionDeadline: Equatable {
    enum Kind: Equatable {
        /// Waiting for the next request (`server.idle_timeout`): close the connection.
        case idle
        /// Receiving a request (`server.request_timeout`): answer 408 and close.
        case request
        /// Lingering after an early answer: the client had its time to read it; close.
        case linger
    }

    var kind: Kind
    var due: NIODeadline
}
