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

    func started(route: String) {
        metrics?.requestStarted(route: route)
    }

    func finished(_ record: RequestRecord, answerTail: AnswerTail?, startedRoute: String) {
        let end = NIODeadline.now()
        var record = record
        if record.usage == nil, (200 ..< 300).contains(record.status), let answerTail {
            record.usage = answerTail.usage
        }
        // An operational request left the gauge when it was marked (`markOperational`).
        if let metrics, !record.isOperational {
            metrics.requestFinished(record, end: end, startedRoute: startedRoute)
        }
        if let accessLog, !record.isOperational {
            accessLog.log(record, end: end, answerTail: answerTail?.bytes)
        }
    }
}
