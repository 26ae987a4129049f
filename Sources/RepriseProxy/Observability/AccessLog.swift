import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// One JSON line per request on stderr (`logging.access_log`), in the shape of Reprise's JSON
/// log lines (`time`, `level`, `logger`, `message`, then the request's fields).
///
/// What is never in a line: any request or response header (`Authorization`, `api-key`,
/// cookies), the query string (it can carry `?api-key=`), the admin token or the cache secret.
/// The prompt and the answer only with `logging.log_bodies` at level `debug`.
///
/// Lines are gathered in a buffer and handed on by `flush()`, which the server calls every
/// `flushInterval` and at shutdown, or when the buffer passes `flushBytes`: a write per request
/// would cost a hit more than the rest of the line (nginx's `access_log ... buffer= flush=`).
/// The write itself happens on a queue of its own, never on an event loop: a stderr that a slow
/// collector stopped reading must not stall requests. While more than `maxQueuedBytes` wait
/// there, further lines are dropped and counted (`droppedLines`).
final class AccessLog: Sendable {
    let includeBodies: Bool
    private let pending = NIOLockedValueBox<[UInt8]>([])
    private let output: @Sendable ([UInt8]) -> Void
    private let writes = DispatchQueue(label: "reprise.access-log")
    private let queuedBytes = NIOLockedValueBox(0)
    private let dropped = NIOLockedValueBox(0)
    static let flushBytes = 64 * 1024
    static let maxQueuedBytes = 8 * 1024 * 1024
    static let flushInterval = TimeAmount.milliseconds(200)
    /// Most of a body a line shows with `log_bodies`.
    static let maxLoggedBodyBytes = 16 * 1024

    init(includeBodies: Bool, output: @escaping @Sendable ([UInt8]) -> Void = AccessLog.standardError) {
        self.includeBodies = includeBodies
        self.output = output
    }

    func log(_ record: RequestRecord, end: NIODeadline, answerTail: [UInt8]?) {
        let line = Self.line(for: record, end: end, answerTail: includeBodies ? answerTail : nil, includeBodies: includeBodies)
        let full = pending.withLockedValue { pending -> [UInt8]? in
            pending.append(contentsOf: line)
            guard pending.count >= Self.flushBytes else { return nil }
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        if let full { hand(full) }
    }

    func flush() {
        let lines = pending.withLockedValue { pending -> [UInt8] in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        if !lines.isEmpty { hand(lines) }
    }

    /// Waits until every line handed on was written (shutdown).
    func waitUntilWritten() {
        writes.sync {}
    }

    /// Lines dropped because the output fell behind by more than `maxQueuedBytes`.
    var droppedLines: Int { dropped.withLockedValue { $0 } }

    private func hand(_ lines: [UInt8]) {
        let admitted = queuedBytes.withLockedValue { queued -> Bool in
            guard queued < Self.maxQueuedBytes else { return false }
            queued += lines.count
            return true
        }
        guard admitted else {
            let count = lines.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            dropped.withLockedValue { $0 += count }
            return
        }
        writes.async { [output, queuedBytes] in
            output(lines)
            queuedBytes.withLockedValue { $0 -= lines.count }
        }
    }

    static func line(for record: RequestRecord, end: NIODeadline, answerTail: [UInt8]?, includeBodies: Bool) -> [UInt8] {
        var line = JSONLineWriter(capacity: 512)
        line.string("time", WallClock.timestamp())
        line.raw("level", includeBodies ? "\"debug\"" : "\"info\"")
        line.raw("logger", "\"reprise.access\"")
        line.raw("message", "\"request\"")
        line.string("request_id", record.requestID.text)
        if let method = record.method { line.string("method", method.rawValue) }
        line.string("path", record.path)
        line.string("route", record.route)
        line.string("variant", record.variant)
        if let client = record.client { line.string("client", client) }
        if let model = record.model { line.string("model", bytes: model.utf8.prefix(128)) }
        line.integer("status", record.status)
        line.string("cache", record.cache.metricLabel)
        line.string("outcome", record.outcome.rawValue)
        let total = (end - record.receivedAt).nanoseconds
        let upstream = record.upstreamNanoseconds(endedAt: end)
        line.milliseconds("latency_ms", nanoseconds: total)
        if let firstByte = record.firstByteAt { line.milliseconds("ttfb_ms", nanoseconds: (firstByte - record.receivedAt).nanoseconds) }
        line.milliseconds("overhead_ms", nanoseconds: total - upstream)
        line.milliseconds("upstream_ms", nanoseconds: upstream)
        line.integer("attempts", record.upstreamAttempts)
        if let usage = record.usage {
            line.integer("prompt_tokens", usage.promptTokens)
            line.integer("completion_tokens", usage.completionTokens)
        }
        if let upstreamID = record.upstreamRequestID { line.string("upstream_request_id", upstreamID) }
        if includeBodies {
            if let body = record.loggedBody { line.string("request_body", bytes: body.readableBytesView.prefix(maxLoggedBodyBytes)) }
            if let answerTail { line.string("answer_tail", bytes: answerTail) }
        }
        return line.finish()
    }

    @Sendable static func standardError(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(2, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 {
                    if written < 0, errno == EINTR { continue }
                    return  // stderr gone: logging must not take the proxy down
                }
                offset += written
            }
        }
    }
}
