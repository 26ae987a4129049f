import NIOCore
import NIOHTTP1
import RepriseCore

/// One upstream call shared by concurrent identical requests (single flight).
///
/// The leader's `UpstreamExchange` feeds it the upstream answer; followers joined from any
/// event loop receive it. Who gets what, and when, is decided by `FlightStateMachine` (read its
/// rules there); this class feeds it the events and runs its actions: it keeps the answer's
/// head and buffered parts, the followers' writers, and hops between event loops.
///
/// Followers see only the headers a stored answer would carry (`CacheEntry.keptHeaderNames`),
/// `x-cache: COALESCED` and `x-reprise-attempts`: never the leader's per-request headers
/// (`set-cookie`, request ids, rate-limit counters).
///
/// Mutable state lives on the leader's event loop (`leaderLoop`); followers' writers live on
/// their own loops and are only touched there. Every entry point hops accordingly, which is what
/// makes the unchecked `Sendable` sound.
final class Flight: @unchecked Sendable {
    /// A follower's end of the flight, at the index of its `FlightFollowerID`.
    private struct Follower {
        /// Identifies the writer when its client leaves.
        let writerID: ObjectIdentifier
        let writer: NIOLoopBound<ResponseWriter>
        /// Forwards the follower's request on its own (run on its loop).
        let goAlone: NIOLoopBound<() -> Void>
    }

    let leaderLoop: EventLoop
    private var machine: FlightStateMachine
    private var followers: [Follower] = []
    /// The leader's answer head, as relayed to its client, and the attempts it took.
    private struct LeaderHead {
        let status: HTTPResponseStatus
        let relayed: RelayedResponseHead
        let attempts: Int
    }

    private var head: LeaderHead?
    /// What followers get of the head's headers (`followerHeaders`): made when the first
    /// follower needs them, not for every flight (most have no follower).
    private var sharedHeaders: HTTPHeaders?
    /// The parts the machine asked to buffer (at most `maxEntryBytes`).
    private var parts: [ByteBuffer] = []
    /// The leader's error headers, for `sendError`.
    private var failureHeaders = HTTPHeaders()
    /// Called on the leader loop when the leader's client left and no follower waits any more.
    var onAbandoned: (() -> Void)?

    init(leaderLoop: EventLoop, leaderShape: ReplayShape, maxEntryBytes: Int) {
        self.leaderLoop = leaderLoop
        self.machine = FlightStateMachine(leaderShape: leaderShape, maxEntryBytes: maxEntryBytes)
    }

    /// Followers still waiting for (part of) the answer.
    var hasActiveFollowers: Bool { machine.hasActiveFollowers }

    // MARK: Joining (from a follower's loop)

    /// Adds a follower; called on the follower's loop. `goAlone` forwards its request on its
    /// own, for when the flight cannot serve it (see `FlightStateMachine`); it runs on that loop.
    func join(writer: ResponseWriter, shape: ReplayShape, goAlone: @escaping () -> Void) {
        let writerID = ObjectIdentifier(writer)
        let follower = Follower(
            writerID: writerID, writer: NIOLoopBound(writer, eventLoop: writer.eventLoop),
            goAlone: NIOLoopBound(goAlone, eventLoop: writer.eventLoop)
        )
        writer.onClientGone { [self] in
            leaderLoop.execute { self.followerLeft(writerID) }
        }
        leaderLoop.execute { [self] in
            let (id, actions) = machine.followerJoined(shape: shape)
            assert(id.index == followers.count, "follower ids are joining positions")
            followers.append(follower)
            run(actions)
        }
    }

    private func followerLeft(_ writerID: ObjectIdentifier) {
        guard let index = followers.firstIndex(where: { $0.writerID == writerID }) else { return }
        run(machine.followerLeft(FlightFollowerID(index: index)))
    }

    /// The leader's own client left; the flight lives on while followers wait.
    func leaderLeft() {
        run(machine.leaderLeft())
    }

    // MARK: Fed by the leader's exchange (on the leader loop)

    func received(status: HTTPResponseStatus, relayed: RelayedResponseHead, attempts: Int) {
        head = LeaderHead(status: status, relayed: relayed, attempts: attempts)
        run(machine.headReceived(status: status))
    }

    /// What a follower may see of the leader's answer headers: those a stored answer keeps
    /// (names compared on their bytes), then the attempts and `x-cache: COALESCED`.
    static func followerHeaders(from relayed: RelayedResponseHead, attempts: Int) -> HTTPHeaders {
        var shared = HTTPHeaders()
        relayed.forEachForwarded { name, value in
            if CacheEntry.keptHeaderNames.contains(where: { HeaderBytes.equalsIgnoringCase(name.utf8, $0.utf8) }) {
                shared.add(name: name, value: value)
            }
        }
        shared.add(name: "x-reprise-attempts", value: String(attempts))
        shared.add(name: "x-cache", value: CacheStatus.coalesced.headerValue)
        return shared
    }

    /// The follower headers of the head received (made once).
    private func followerHeaders(of head: LeaderHead) -> HTTPHeaders {
        if let sharedHeaders { return sharedHeaders }
        let headers = Self.followerHeaders(from: head.relayed, attempts: head.attempts)
        sharedHeaders = headers
        return headers
    }

    func received(part: ByteBuffer) {
        run(machine.partReceived(size: part.readableBytes), part: part)
    }

    /// The answer is whole (a stream at its last event, or the upstream's body ended); later
    /// calls change nothing.
    func completed() {
        run(machine.completed())
    }

    /// The answer broke after its head; later calls change nothing.
    func cut() {
        run(machine.cut())
    }

    /// Reprise's own error before any upstream head; `headers` are the leader's.
    func failed(_ error: ProxyError, headers: HTTPHeaders) {
        var coalescedHeaders = headers
        coalescedHeaders.replaceOrAdd(name: "x-cache", value: CacheStatus.coalesced.headerValue)
        failureHeaders = coalescedHeaders
        run(machine.failed(error))
    }

    // MARK: Running the machine's actions

    /// `part` is the part of a `partReceived` event (for `sendPart`).
    private func run(_ actions: FlightStateMachine.Actions, part: ByteBuffer? = nil) {
        for action in actions {
            switch action {
            case .sendHeadAndBacklog(let id):
                guard let head else { continue }
                let backlog = parts
                let (status, headers, contentLength) = (head.status, followerHeaders(of: head), head.relayed.contentLength)
                send(to: id) { writer in
                    writer.writeHead(status: status, headers: headers, contentLength: contentLength)
                    for part in backlog { writer.writeBodyPart(part) }
                }
            case .sendPart(let ids, let buffer):
                guard let part else { continue }
                if buffer { parts.append(part) }
                for id in ids { send(to: id) { writer in writer.writeBodyPart(part) } }
            case .endFollower(let id):
                send(to: id) { writer in writer.end() }
            case .abortFollower(let id):
                send(to: id) { writer in writer.abort() }
            case .sendError(let id, let error):
                let headers = failureHeaders
                send(to: id) { writer in writer.send(error: error, extraHeaders: headers) }
            case .sendConvertedAnswer(let id, let shape):
                guard let converted = convertedAnswer(for: shape) else {
                    run(machine.conversionFailed(id))
                    continue
                }
                send(to: id) { writer in writer.send(status: converted.status, headers: converted.headers, body: converted.body) }
            case .handBack(let id):
                goAlone(id)
            case .dropBacklog:
                parts = []
            case .abandonCall:
                onAbandoned?()
            }
        }
    }

    /// Hands the follower back to make its own upstream call (unless its client left).
    private func goAlone(_ id: FlightFollowerID) {
        let writer = followers[id.index].writer
        let goAlone = followers[id.index].goAlone
        writer.eventLoop.execute {
            let value = writer.value
            guard !value.clientGone, !value.isFinished, !value.headWritten else { return }
            goAlone.value()
        }
    }

    /// The whole answer (the buffered parts) in `shape`; nil when it does not convert.
    private func convertedAnswer(for shape: ReplayShape) -> (status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer)? {
        guard let head else { return nil }
        let headerPairs = followerHeaders(of: head).map { ($0.name, $0.value) }
        let entry: CacheEntry?
        var body = [UInt8]()
        if case .buffered(let bytes) = machine.backlog { body.reserveCapacity(bytes) }
        for part in parts { body.append(contentsOf: part.readableBytesView) }
        let maxEntryBytes = machine.maxEntryBytes
        switch machine.leaderShape {
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
        headers.add(name: "x-reprise-attempts", value: String(head.attempts))
        headers.add(name: "x-cache", value: CacheStatus.coalesced.headerValue)
        return (head.status, headers, encoded.body)
    }

    private func send(to id: FlightFollowerID, _ action: @escaping @Sendable (ResponseWriter) -> Void) {
        let writer = followers[id.index].writer
        writer.eventLoop.execute {
            let value = writer.value
            guard !value.clientGone, !value.isFinished else { return }
            action(value)
        }
    }
}
