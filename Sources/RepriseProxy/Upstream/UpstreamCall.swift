import NIOCore

/// One call in flight (or waiting for a connection); `cancel()` stops it.
final class UpstreamCall {
    let request: UpstreamRequest
    let deadline: NIODeadline
    /// Held until the call ends (then released, which breaks the sink → exchange → call cycle).
    private(set) var sink: UpstreamResponseSink?
    var connection: UpstreamConnection?
    weak var pool: UpstreamConnectionPool?

    init(request: UpstreamRequest, deadline: NIODeadline, sink: UpstreamResponseSink, pool: UpstreamConnectionPool) {
        self.request = request
        self.deadline = deadline
        self.sink = sink
        self.pool = pool
    }

    var isOver: Bool { sink == nil }

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
        self.sink = nil
        connection = nil
        sink.upstreamFailed(error)
    }

    /// Called once the answer ended; the sink is released first so nothing reaches it twice.
    func finish() {
        guard let sink else { return }
        self.sink = nil
        connection = nil
        sink.upstreamEnd()
    }
}
