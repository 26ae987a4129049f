import NIOHTTP1

/// The decisions of one coalesced flight, as a plain value: who among the followers gets what
/// of the leader's upstream answer, when, and when the upstream call is no longer wanted.
///
/// `Flight` runs it on the leader's event loop: it feeds the events (followers joining and
/// leaving, the leader's client leaving, the upstream answer's head, parts and end) and runs
/// the returned actions; it keeps the bytes (head headers, buffered parts), the machine only
/// their sizes. Followers are named by `FlightFollowerID`, their position in joining order.
///
/// The rules:
/// - A follower of the leader's shape gets the head, the parts buffered so far and the rest as
///   they arrive; one of the other shape (a JSON request joining a stream, or the reverse) gets
///   the converted answer once it is whole. An error answer (not 2xx) has no shape: every
///   follower gets it as the upstream sent it.
/// - At most `maxEntryBytes` of the answer are buffered (what late joiners and the other shape
///   need). Past that the backlog is dropped: followers receiving keep receiving; those that
///   would need the backlog are handed back to make their own upstream call.
/// - A cut answer aborts the followers receiving it and hands back the others (their own call
///   may well succeed); Reprise's own error before any head (circuit open, unreachable,
///   timeout) goes to every follower.
/// - Completion, cut and failure are final: later ones change nothing.
/// - When the leader's client left and no follower waits any more, the call is abandoned
///   (once); a follower joining after that is handed back.
struct FlightStateMachine: Sendable {
    /// Where the upstream answer stands.
    ///
    /// - `awaitingHead`. Can transition to: `arriving` (head), `failed`, `cut` (ended without a
    ///   head, which the exchange never does: nobody can be served).
    /// - `arriving(status)`: the head came, parts arrive. Can transition to: `completed`, `cut`,
    ///   `failed`.
    /// - `completed(status)`, `cut`, `failed`: terminal.
    enum Answer: Equatable, Sendable {
        case awaitingHead
        case arriving(HTTPResponseStatus)
        case completed(HTTPResponseStatus)
        case cut
        case failed(ProxyError)

        var isInProgress: Bool {
            switch self {
            case .awaitingHead, .arriving: return true
            case .completed, .cut, .failed: return false
            }
        }
    }

    /// The parts of the answer kept for late joiners and the other shape.
    enum Backlog: Equatable, Sendable {
        case buffered(bytes: Int)
        /// The answer outgrew `maxEntryBytes`; nothing is buffered any more.
        case dropped
    }

    let leaderShape: ReplayShape
    let maxEntryBytes: Int
    private(set) var answer = Answer.awaitingHead
    private(set) var backlog = Backlog.buffered(bytes: 0)
    /// Indexed by `FlightFollowerID.index`; followers are never removed (only `done`).
    private(set) var followers: [FlightFollower] = []
    /// The followers in phase `receiving`, in joining order: the target of every part.
    private var receiving: [FlightFollowerID] = []
    /// Followers not `done`.
    private var activeFollowerCount = 0
    private(set) var leaderClientGone = false
    /// `abandonCall` was decided (at most once).
    private(set) var abandoned = false

    init(leaderShape: ReplayShape, maxEntryBytes: Int) {
        self.leaderShape = leaderShape
        self.maxEntryBytes = maxEntryBytes
    }

    /// Followers still waiting for (part of) the answer.
    var hasActiveFollowers: Bool { activeFollowerCount > 0 }

    // MARK: Followers and the leader's client

    /// A follower joined; it is served as far as the answer already is.
    mutating func followerJoined(shape: ReplayShape) -> (id: FlightFollowerID, actions: Actions) {
        let id = FlightFollowerID(index: followers.count)
        followers.append(FlightFollower(shape: shape, sharesLeaderShape: shape == leaderShape))
        activeFollowerCount += 1
        var actions = Actions()
        if abandoned {
            // The call was stopped before this follower reached the flight.
            finish(id, with: .handBack(id), into: &actions)
        } else {
            catchUp(id, into: &actions)
        }
        return (id, actions)
    }

    /// A follower's client left (at any time, also after it was answered).
    mutating func followerLeft(_ id: FlightFollowerID) -> Actions {
        var actions = Actions()
        guard followers.indices.contains(id.index) else { return actions }
        if followers[id.index].phase != .done { markDone(id) }
        abandonIfNobodyWaits(into: &actions)
        return actions
    }

    /// The leader's own client left; the call goes on while followers wait.
    mutating func leaderLeft() -> Actions {
        leaderClientGone = true
        var actions = Actions()
        abandonIfNobodyWaits(into: &actions)
        return actions
    }

    // MARK: The upstream answer (fed by the leader's exchange)

    mutating func headReceived(status: HTTPResponseStatus) -> Actions {
        var actions = Actions()
        guard case .awaitingHead = answer else { return actions }
        answer = .arriving(status)
        catchUpAll(into: &actions)
        return actions
    }

    /// A part of the answer's body, `size` bytes, arrived.
    mutating func partReceived(size: Int) -> Actions {
        var actions = Actions()
        guard case .arriving = answer else { return actions }
        var buffer = false
        if case .buffered(let bytes) = backlog {
            if size > maxEntryBytes - bytes {
                backlog = .dropped
                actions.append(.dropBacklog)
                // Those waiting for the whole answer (or not yet sent the head) are handed back.
                catchUpAll(into: &actions)
                abandonIfNobodyWaits(into: &actions)
            } else {
                backlog = .buffered(bytes: bytes + size)
                buffer = true
            }
        }
        if buffer || !receiving.isEmpty {
            actions.append(.sendPart(to: receiving, buffer: buffer))
        }
        return actions
    }

    /// The answer is whole (a stream at its last event, or the upstream's body ended).
    mutating func completed() -> Actions {
        switch answer {
        case .arriving(let status): return finishAnswer(.completed(status))
        case .awaitingHead: return finishAnswer(.cut)
        case .completed, .cut, .failed: return Actions()
        }
    }

    /// The answer broke after its head (a cut stream).
    mutating func cut() -> Actions {
        answer.isInProgress ? finishAnswer(.cut) : Actions()
    }

    /// Reprise's own error, before any upstream head.
    mutating func failed(_ error: ProxyError) -> Actions {
        answer.isInProgress ? finishAnswer(.failed(error)) : Actions()
    }

    /// The whole answer did not convert to the follower's shape (`sendConvertedAnswer`).
    mutating func conversionFailed(_ id: FlightFollowerID) -> Actions {
        [.handBack(id)]
    }

    // MARK: Deciding

    private mutating func finishAnswer(_ end: Answer) -> Actions {
        answer = end
        var actions = Actions()
        catchUpAll(into: &actions)
        return actions
    }

    private mutating func catchUpAll(into actions: inout Actions) {
        for index in followers.indices { catchUp(FlightFollowerID(index: index), into: &actions) }
    }

    /// Brings one follower as far as the answer is.
    private mutating func catchUp(_ id: FlightFollowerID, into actions: inout Actions) {
        let follower = followers[id.index]
        guard follower.phase != .done else { return }
        switch answer {
        case .awaitingHead:
            return
        case .failed(let error):
            finish(id, with: follower.phase == .receiving ? .abortFollower(id) : .sendError(id, error), into: &actions)
            return
        case .cut:
            // A follower that has nothing yet is better served by its own call than by a
            // broken answer.
            finish(id, with: follower.phase == .receiving ? .abortFollower(id) : .handBack(id), into: &actions)
            return
        case .arriving(let status), .completed(let status):
            // An error answer has no shape: every follower gets it as the upstream sent it.
            let live = follower.sharesLeaderShape || !Self.isSuccess(status)
            if backlog == .dropped, !(live && follower.phase == .receiving) {
                // It would need the part of the answer that is no longer buffered.
                finish(id, with: .handBack(id), into: &actions)
                return
            }
            guard case .completed = answer else {
                if live, follower.phase == .waiting {
                    followers[id.index].phase = .receiving
                    receiving.append(id)
                    actions.append(.sendHeadAndBacklog(id))
                }
                return
            }
            if !live {
                finish(id, with: .sendConvertedAnswer(id, shape: follower.shape), into: &actions)
                return
            }
            if follower.phase == .waiting { actions.append(.sendHeadAndBacklog(id)) }
            finish(id, with: .endFollower(id), into: &actions)
        }
    }

    /// The follower's last action: it waits for nothing more.
    private mutating func finish(_ id: FlightFollowerID, with action: Action, into actions: inout Actions) {
        markDone(id)
        actions.append(action)
    }

    private mutating func markDone(_ id: FlightFollowerID) {
        if followers[id.index].phase == .receiving, let position = receiving.firstIndex(of: id) {
            receiving.remove(at: position)
        }
        followers[id.index].phase = .done
        activeFollowerCount -= 1
    }

    private mutating func abandonIfNobodyWaits(into actions: inout Actions) {
        guard leaderClientGone, activeFollowerCount == 0, answer.isInProgress, !abandoned else { return }
        abandoned = true
        actions.append(.abandonCall)
    }

    private static func isSuccess(_ status: HTTPResponseStatus) -> Bool {
        (200..<300).contains(Int(status.code))
    }
}
