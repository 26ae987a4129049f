import NIOCore

/// One call in flight (or waiting for a connection); `cancel()` stops it.
final class UpstreamCall {
    let request: UpstreamRequest
    let deadline: NIODeadline
    /// Held until the call ends (then released, which breaks the sink → exchange → call cycle).
    private(set) var sink: UpstreamResponseSink?
    var connection: UpstreamConnection?
    weak var pool: UpstreamConnectionPool?
    /// Set while the pool watches the call's time to the first byte.
    private(set) var firstByteDeadline: NIODeadline?

    init(request: UpstreamRequest, deadline: NIODeadline, sink: UpstreamResponseSink, pool: UpstreamConnectionPool) {
        self.request = request
        self.deadline = deadline
        self.sink = sink
        self.pool = pool
    }

    var isOver: Bool { sink == nil }

    /// The head must come by `deadline`, or the sink hears `upstreamFirstByteTimedOut`
    /// (served by the pool's one wake-up: `FirstByteDeadlines`).
    func watchFirstByte(until deadline: NIODeadline) {
        guard !isOver, let pool else { return }
        endFirstByteWatch()
        firstByteDeadline = deadline
        pool.watchFirstByte(of: self, until: deadline)
    }

    /// The head came, or the call ended: the deadline no longer applies.
    func endFirstByteWatch() {
        guard firstByteDeadline != nil else { return }
        firstByteDeadline = nil
        pool?.unwatchFirstByte(of: self)
    }

    /// Called by the pool (already no longer watching) when the deadline passed.
    func firstByteDeadlinePassed() {
        firstByteDeadline = nil
        sink?.upstreamFirstByteTimedOut()
    }

    /// Ends the call; its connection (if the answer was not complete) is closed, because the
    /// rest of that answer would otherwise be read as the next one's.
    func cancel() {
        guard !isOver else { return }
        if let connection {
            connection.abandon(self)
        } else {
            pool?.removeWaiter(self)
        }
        fail(.cancelled)
    }

    func fail(_ error: UpstreamCallError) {
        guard let sink else { return }
        endFirstByteWatch()
        self.sink = nil
        connection = nil
        sink.upstreamFailed(error)
    }

    /// Called once the answer ended; the sink is released first so nothing reaches it twice.
    func finish() {
        guard let sink else { return }
        endFirstByteWatch()
        self.sink = nil
        connection = nil
        sink.upstreamEnd()
    }
}
