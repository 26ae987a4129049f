import NIOCore
import NIOHTTP1
import RepriseCore

/// One upstream call shared by concurrent identical requests (single flight).
///
/// The leader's `UpstreamExchange` feeds it the upstream answer; followers joined from any
/// event loop receive it: a follower that wants the same shape as the leader gets the head, the
/// parts already sent and the rest as they arrive; a follower that wants the other shape (a JSON
/// request joining a stream, or the reverse) gets the converted answer when it completes.
///
/// Followers see only the headers a stored answer would carry (`CacheEntry.keptHeaderNames`),
/// `x-cache: COALESCED` and `x-reprise-attempts`: never the leader's per-request headers
/// (`set-cookie`, request ids, rate-limit counters).
///
/// The flight buffers at most `maxEntryBytes` of the answer (what late joiners and the other
/// shape need). Past that it drops its backlog: followers already receiving live keep receiving;
/// a follower that would need the buffer is handed back (`goAlone`) to make its own upstream
/// call, as is a follower whose shape cannot be served from a broken or unconvertible answer.
///
/// Mutable state lives on the leader's event loop (`leaderLoop`); followers' writers live on
/// their own loops and are only touched there. Every entry point hops accordingly, which is what
/// makes the unchecked `Sendable` sound.
final class Flight: @unchecked Sendable {
    enum Outcome {
        case inProgress
        case completed
        /// The upstream answer broke after its head (a cut stream).
        case cut
        /// Reprise's own error before any upstream head (circuit open, unreachable, timeout).
        case failed(ProxyError, HTTPHeaders)
    }

    private struct Follower {
        let id: ObjectIdentifier
        let writer: NIOLoopBound<ResponseWriter>
        /// Forwards the follower's request on its own (run on its loop).
        let goAlone: NIOLoopBound<() -> Void>
        let shape: ReplayShape
        /// Receives the leader's bytes as they come (same shape as the leader's answer).
        let live: Bool
        var headSent = false
        var gone = false
    }

    let leaderLoop: EventLoop
    private let leaderShape: ReplayShape
    private let maxEntryBytes: Int
    private var followers: [Follower] = []
    private var head: (status: HTTPResponseStatus, headers: HTTPHeaders, contentLength: Int?)?
    private var parts: [ByteBuffer] = []
    private var bufferedBytes = 0
    /// The answer outgrew `maxEntryBytes`: `parts` was dropped and no longer grows.
    private var backlogDropped = false
    private(set) var outcome = Outcome.inProgress
    /// Called on the leader loop when the leader's client left and no follower remains.
    var onAbandoned: (() -> Void)?
    private(set) var leaderClientGone = false

    init(leaderLoop: EventLoop, leaderShape: ReplayShape, maxEntryBytes: Int) {
        self.leaderLoop = leaderLoop
        self.leaderShape = leaderShape
        self.maxEntryBytes = maxEntryBytes
    }

    /// Followers still waiting for (part of) the answer.
    var hasActiveFollowers: Bool { followers.contains { !$0.gone } }

    // MARK: Joining (from a follower's loop)

    /// Adds a follower; called on the follower's loop. `goAlone` forwards its request on its
    /// own, for when the flight cannot serve it (see the type's comment); it runs on that loop.
    func join(writer: ResponseWriter, shape: ReplayShape, goAlone: @escaping () -> Void) {
        let id = ObjectIdentifier(writer)
        let bound = NIOLoopBound(writer, eventLoop: writer.eventLoop)
        let boundGoAlone = NIOLoopBound(goAlone, eventLoop: writer.eventLoop)
        writer.onClientGone { [self] in
            leaderLoop.execute { self.followerLeft(id) }
        }
        leaderLoop.execute { [self] in
            followers.append(Follower(id: id, writer: bound, goAlone: boundGoAlone, shape: shape, live: shape == leaderShape))
            catchUp(followers.count - 1)
        }
    }

    private func followerLeft(_ id: ObjectIdentifier) {
        guard let index = followers.firstIndex(where: { $0.id == id }) else { return }
        followers[index].gone = true
        if leaderClientGone, !hasActiveFollowers, case .inProgress = outcome { onAbandoned?() }
    }

    /// The leader's own client left; the flight lives on while followers wait.
    func leaderLeft() {
        leaderClientGone = true
        if !hasActiveFollowers, case .inProgress = outcome { onAbandoned?() }
    }

    // MARK: Fed by the leader's exchange (on the leader loop)

    func received(status: HTTPResponseStatus, headers: HTTPHeaders, contentLength: Int?) {
        head = (status, Self.followerHeaders(from: headers), contentLength)
        for index in followers.indices { catchUp(index) }
    }

    /// What a follower may see of the leader's answer headers.
    static func followerHeaders(from headers: HTTPHeaders) -> HTTPHeaders {
        var shared = HTTPHeaders()
        for (name, value) in headers {
            let lowercased = name.lowercased()
            if CacheEntry.keptHeaderNames.contains(lowercased) || lowercased == "x-reprise-attempts" {
                shared.add(name: name, value: value)
            }
        }
        shared.add(name: "x-cache", value: "COALESCED")
        return shared
    }

    func received(part: ByteBuffer) {
        if !backlogDropped {
            if part.readableBytes > maxEntryBytes - bufferedBytes {
                dropBacklog()
            } else {
                bufferedBytes += part.readableBytes
                parts.append(part)
            }
        }
        for index in followers.indices where followers[index].headSent && !followers[index].gone {
            send(to: followers[index]) { writer in writer.writeBodyPart(part) }
        }
    }

    /// The answer is larger than a stored entry may be: stop buffering it, and hand back the
    /// followers that were waiting for the whole answer.
    private func dropBacklog() {
        backlogDropped = true
        parts = []
        bufferedBytes = 0
        for index in followers.indices { catchUp(index) }
    }

    /// The answer is whole (a stream at its last event, or the upstream's body ended); called
    /// once per flight, later calls change nothing.
    func completed() {
        guard case .inProgress = outcome else { return }
        outcome = .completed
        for index in followers.indices { catchUp(index) }
    }

    func cut() {
        guard case .inProgress = outcome else { return }
        outcome = .cut
        for index in followers.indices { catchUp(index) }
    }

    func failed(_ error: ProxyError, headers: HTTPHeaders) {
        outcome = .failed(error, headers)
        for index in followers.indices { catchUp(index) }
    }

    // MARK: Delivery

    /// Brings one follower as far as the flight is.
    private func catchUp(_ index: Int) {
        let follower = followers[index]
        guard !follower.gone else { return }
        if case .failed(let error, let headers) = outcome {
            var coalescedHeaders = headers
            coalescedHeaders.replaceOrAdd(name: "x-cache", value: "COALESCED")
            let shared = coalescedHeaders
            followers[index].gone = true
            send(to: follower) { writer in
                if writer.headWritten { writer.abort() } else { writer.send(error: error, extraHeaders: shared) }
            }
            return
        }
        // An error answer has no shape: every follower gets it as the upstream sent it.
        let live = follower.live || head.map { !(200..<300).contains(Int($0.status.code)) } ?? false
        if backlogDropped, !(live && follower.headSent) {
            // It would need the part of the answer that is no longer buffered.
            followers[index].gone = true
            goAlone(follower)
            return
        }
        if live {
            if let head, !follower.headSent {
                followers[index].headSent = true
                let backlog = parts
                send(to: follower) { writer in
                    writer.writeHead(status: head.status, headers: head.headers, contentLength: head.contentLength)
                    for part in backlog { writer.writeBodyPart(part) }
                }
            }
            switch outcome {
            case .completed:
                followers[index].gone = true
                send(to: follower) { writer in writer.end() }
            case .cut:
                followers[index].gone = true
                send(to: follower) { writer in writer.abort() }
            case .inProgress, .failed:
                break
            }
            return
        }
        // Another shape: answered once the whole answer is known.
        switch outcome {
        case .inProgress:
            return
        case .cut, .failed:
            // The shared answer broke off: the follower's own call may well succeed.
            followers[index].gone = true
            goAlone(follower)
        case .completed:
            followers[index].gone = true
            guard let converted = convertedAnswer(for: follower.shape) else {
                goAlone(follower)
                return
            }
            send(to: follower) { writer in writer.send(status: converted.status, headers: converted.headers, body: converted.body) }
        }
    }

    /// Hands the follower back to make its own upstream call (unless its client left).
    private func goAlone(_ follower: Follower) {
        let writer = follower.writer
        let goAlone = follower.goAlone
        writer.eventLoop.execute {
            let value = writer.value
            guard !value.clientGone, !value.isFinished, !value.headWritten else { return }
            goAlone.value()
        }
    }

    private func convertedAnswer(for shape: ReplayShape) -> (status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer)? {
        guard let head, (200..<300).contains(Int(head.status.code)), !backlogDropped else { return nil }
        let headerPairs = head.headers.map { ($0.name, $0.value) }
        let entry: CacheEntry?
        var body = [UInt8]()
        body.reserveCapacity(bufferedBytes)
        for part in parts { body.append(contentsOf: part.readableBytesView) }
        switch leaderShape {
        case .json:
            entry = CacheEntry.forJSONResponse(status: Int(head.status.code), headers: headerPairs, body: body,
                                               nowMs: ResponseCache.nowMs(), ttlMs: 1, maxBytes: maxEntryBytes)
        case .stream:
            var recorder = StreamRecorder(maxBytes: maxEntryBytes)
            recorder.feed(body)
            entry = recorder.finish(status: Int(head.status.code), headers: headerPairs, nowMs: ResponseCache.nowMs(), ttlMs: 1)
        }
        guard let entry, let encoded = try? CachedAnswer(entry: entry).encoded(for: shape) else { return nil }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: encoded.contentType)
        if let attempts = head.headers.first(name: "x-reprise-attempts") { headers.add(name: "x-reprise-attempts", value: attempts) }
        headers.add(name: "x-cache", value: "COALESCED")
        return (head.status, headers, encoded.body)
    }

    private func send(to follower: Follower, _ action: @escaping @Sendable (ResponseWriter) -> Void) {
        let writer = follower.writer
        writer.eventLoop.execute {
            let value = writer.value
            guard !value.clientGone, !value.isFinished else { return }
            action(value)
        }
    }
}
