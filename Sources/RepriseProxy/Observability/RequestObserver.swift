import NIOCore

/// Where a finished request is reported: the metrics and the access log. Shared by every
/// connection; called on the connection's event loop.
final class RequestObserver: Sendable {
    let metrics: ProxyMetrics?
    let accessLog: AccessLog?

    init(metrics: ProxyMetrics?, accessLog: AccessLog?) {
        self.metrics = metrics
        self.accessLog = accessLog
    }

    /// Whether answers' tails are kept (token counts, logged answers).
    var wantsAnswerTail: Bool { metrics != nil || accessLog?.includeBodies == true }

    /// The shard the requests of `loop` are added up in (once per connection).
    func requestShard(for loop: EventLoop) -> RequestMetricsShard? {
        metrics?.requestShard(for: loop)
    }

    /// Counts a request in progress on `route`; false when there are no metrics to count it in.
    func started(route: String, shard: RequestMetricsShard?) -> Bool {
        guard let metrics else { return false }
        metrics.requestStarted(route: route, shard: shard)
        return true
    }

    /// `record.usage` is already filled from `answerTail` when the answer carried one
    /// (`ResponseWriter.report`); the tail's bytes are what a body log shows.
    /// `startedRoute`: the route `started` counted the request on (nil when it did not).
    func finished(_ record: RequestRecord, answerTail: AnswerTail?, startedRoute: String?, shard: RequestMetricsShard?) {
        let end = NIODeadline.now()
        if let metrics, !record.isOperational {
            metrics.requestFinished(record, end: end, startedRoute: startedRoute, shard: shard)
        }
        if let accessLog, !record.isOperational {
            accessLog.log(record, end: end, answerTail: answerTail?.bytes)
        }
    }
}
