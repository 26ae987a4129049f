import NIOCore
import Prometheus

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

    /// Counts a request in progress; returns the gauge to decrement at its end.
    func started(route: String) -> Gauge? {
        metrics?.requestStarted(route: route)
    }

    /// `record.usage` is already filled from `answerTail` when the answer carried one
    /// (`ResponseWriter.report`); the tail's bytes are what a body log shows.
    func finished(_ record: RequestRecord, answerTail: AnswerTail?) {
        let end = NIODeadline.now()
        if let metrics, !record.isOperational {
            metrics.requestFinished(record, end: end)
        }
        if let accessLog, !record.isOperational {
            accessLog.log(record, end: end, answerTail: answerTail?.bytes)
        }
    }
}
