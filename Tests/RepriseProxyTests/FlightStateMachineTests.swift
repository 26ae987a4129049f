import NIOHTTP1
import Testing
@testable import RepriseProxy

/// The coalescing flight's decisions as traces: each test feeds events and checks the actions,
/// without sockets or event loops.
@Suite struct FlightStateMachineTests {
    static let stream = ReplayShape.stream(includeUsage: false)
    static let error = ProxyError.upstreamUnreachable("connection refused")

    private func machine(leader: ReplayShape = stream, maxEntryBytes: Int = 100) -> FlightStateMachine {
        FlightStateMachine(leaderShape: leader, maxEntryBytes: maxEntryBytes)
    }

    // MARK: Same shape: live

    @Test func followerOfTheLeadersShapeGetsTheHeadTheBacklogAndThenEachPart() {
        var flight = machine()
        let (a, joinedA) = flight.followerJoined(shape: Self.stream)
        #expect(joinedA == [])
        #expect(flight.headReceived(status: .ok) == [.sendHeadAndBacklog(a)])
        #expect(flight.partReceived(size: 10) == [.sendPart(to: [a], buffer: true)])

        let (b, joinedB) = flight.followerJoined(shape: Self.stream)
        #expect(joinedB == [.sendHeadAndBacklog(b)])
        #expect(flight.partReceived(size: 10) == [.sendPart(to: [a, b], buffer: true)])
        #expect(flight.completed() == [.endFollower(a), .endFollower(b)])
        #expect(!flight.hasActiveFollowers)
    }

    @Test func partsAreBufferedWhileNobodyReceivesThem() {
        var flight = machine()
        #expect(flight.headReceived(status: .ok) == [])
        #expect(flight.partReceived(size: 10) == [.sendPart(to: [], buffer: true)])
    }

    @Test func followerJoiningAfterCompletionGetsTheWholeAnswer() {
        var flight = machine()
        _ = flight.headReceived(status: .ok)
        _ = flight.partReceived(size: 40)
        #expect(flight.completed() == [])

        let (a, sameShape) = flight.followerJoined(shape: Self.stream)
        #expect(sameShape == [.sendHeadAndBacklog(a), .endFollower(a)])
        let (b, otherShape) = flight.followerJoined(shape: .json)
        #expect(otherShape == [.sendConvertedAnswer(b, shape: .json)])
        #expect(!flight.hasActiveFollowers)
    }

    @Test func followerWhoLeftReceivesNothingMore() {
        var flight = machine()
        let (a, _) = flight.followerJoined(shape: Self.stream)
        let (b, _) = flight.followerJoined(shape: Self.stream)
        #expect(flight.headReceived(status: .ok) == [.sendHeadAndBacklog(a), .sendHeadAndBacklog(b)])
        #expect(flight.followerLeft(a) == [])
        #expect(flight.partReceived(size: 10) == [.sendPart(to: [b], buffer: true)])
        #expect(flight.completed() == [.endFollower(b)])
        // A client closing after its answer ended changes nothing.
        #expect(flight.followerLeft(b) == [])
    }

    // MARK: The other shape: converted at completion

    @Test func followerOfTheOtherShapeGetsTheConvertedAnswerAtCompletion() {
        var flight = machine(leader: .json)
        let (a, joined) = flight.followerJoined(shape: Self.stream)
        #expect(joined == [])
        #expect(flight.headReceived(status: .ok) == [])
        #expect(flight.partReceived(size: 30) == [.sendPart(to: [], buffer: true)])
        #expect(flight.completed() == [.sendConvertedAnswer(a, shape: Self.stream)])
    }

    @Test func aStreamWithOtherUsageIsTheOtherShape() {
        var flight = machine(leader: .stream(includeUsage: true))
        let (a, _) = flight.followerJoined(shape: .stream(includeUsage: false))
        #expect(flight.headReceived(status: .ok) == [])
        _ = flight.partReceived(size: 30)
        #expect(flight.completed() == [.sendConvertedAnswer(a, shape: .stream(includeUsage: false))])
    }

    @Test func followerWhoseAnswerDoesNotConvertIsHandedBack() {
        var flight = machine(leader: .json)
        let (a, _) = flight.followerJoined(shape: Self.stream)
        _ = flight.headReceived(status: .ok)
        _ = flight.partReceived(size: 30)
        #expect(flight.completed() == [.sendConvertedAnswer(a, shape: Self.stream)])
        #expect(flight.conversionFailed(a) == [.handBack(a)])
    }

    @Test func followerOfTheOtherShapeIsHandedBackWhenTheAnswerIsCut() {
        var flight = machine()
        let (live, _) = flight.followerJoined(shape: Self.stream)
        let (other, _) = flight.followerJoined(shape: .json)
        #expect(flight.headReceived(status: .ok) == [.sendHeadAndBacklog(live)])
        _ = flight.partReceived(size: 10)
        #expect(flight.cut() == [.abortFollower(live), .handBack(other)])
    }

    // MARK: Error answers

    @Test func errorStatusGoesToEveryFollowerAsTheUpstreamSentIt() {
        var flight = machine()
        let (a, _) = flight.followerJoined(shape: Self.stream)
        let (b, _) = flight.followerJoined(shape: .json)
        #expect(flight.headReceived(status: .tooManyRequests) == [.sendHeadAndBacklog(a), .sendHeadAndBacklog(b)])
        #expect(flight.partReceived(size: 20) == [.sendPart(to: [a, b], buffer: true)])
        #expect(flight.completed() == [.endFollower(a), .endFollower(b)])

        let (late, joined) = flight.followerJoined(shape: .json)
        #expect(joined == [.sendHeadAndBacklog(late), .endFollower(late)])
    }

    @Test func reprisesOwnErrorBeforeAHeadGoesToEveryFollower() {
        var flight = machine()
        let (a, _) = flight.followerJoined(shape: Self.stream)
        let (b, _) = flight.followerJoined(shape: .json)
        #expect(flight.failed(Self.error) == [.sendError(a, Self.error), .sendError(b, Self.error)])
        #expect(!flight.hasActiveFollowers)

        let (late, joined) = flight.followerJoined(shape: Self.stream)
        #expect(joined == [.sendError(late, Self.error)])
        #expect(flight.completed() == [])
    }

    // MARK: The backlog bound

    @Test func pastMaxEntryBytesTheBacklogIsDroppedAndWhoNeedsItIsHandedBack() {
        var flight = machine(maxEntryBytes: 100)
        let (live, _) = flight.followerJoined(shape: Self.stream)
        let (other, _) = flight.followerJoined(shape: .json)
        _ = flight.headReceived(status: .ok)
        #expect(flight.partReceived(size: 60) == [.sendPart(to: [live], buffer: true)])
        #expect(flight.partReceived(size: 40) == [.sendPart(to: [live], buffer: true)])
        #expect(flight.partReceived(size: 1) == [.dropBacklog, .handBack(other), .sendPart(to: [live], buffer: false)])
        #expect(flight.backlog == .dropped)
        // Nothing is buffered again; who receives keeps receiving.
        #expect(flight.partReceived(size: 10) == [.sendPart(to: [live], buffer: false)])

        let (late, joined) = flight.followerJoined(shape: Self.stream)
        #expect(joined == [.handBack(late)])
        #expect(flight.completed() == [.endFollower(live)])
        let (afterCompletion, joinedAfter) = flight.followerJoined(shape: Self.stream)
        #expect(joinedAfter == [.handBack(afterCompletion)])
    }

    @Test func withNobodyReceivingADroppedPartIsNotSent() {
        var flight = machine(maxEntryBytes: 10)
        _ = flight.headReceived(status: .ok)
        #expect(flight.partReceived(size: 11) == [.dropBacklog])
        #expect(flight.partReceived(size: 1) == [])
    }

    // MARK: Clients leaving

    @Test func leaderLeavingWithNoFollowerAbandonsTheCall() {
        var flight = machine()
        #expect(flight.leaderLeft() == [.abandonCall])
        #expect(flight.leaderLeft() == [])
        // A follower reaching the flight after the call stopped makes its own.
        let (late, joined) = flight.followerJoined(shape: Self.stream)
        #expect(joined == [.handBack(late)])
    }

    @Test func leaderLeavingWithFollowersLetsTheCallGoOn() {
        var flight = machine()
        let (a, _) = flight.followerJoined(shape: Self.stream)
        let (b, _) = flight.followerJoined(shape: .json)
        #expect(flight.leaderLeft() == [])
        #expect(flight.headReceived(status: .ok) == [.sendHeadAndBacklog(a)])
        #expect(flight.followerLeft(a) == [])
        #expect(flight.partReceived(size: 10) == [.sendPart(to: [], buffer: true)])
        #expect(flight.followerLeft(b) == [.abandonCall])
        #expect(flight.followerLeft(b) == [])
    }

    @Test func followersLeavingAfterTheAnswerEndedAbandonNothing() {
        var flight = machine()
        let (a, _) = flight.followerJoined(shape: Self.stream)
        _ = flight.headReceived(status: .ok)
        _ = flight.leaderLeft()
        #expect(flight.completed() == [.endFollower(a)])
        #expect(flight.followerLeft(a) == [])
        #expect(!flight.abandoned)
    }

    @Test func lastFollowerHandedBackWhileTheLeaderIsGoneAbandonsTheCall() {
        var flight = machine(maxEntryBytes: 10)
        let (other, _) = flight.followerJoined(shape: .json)
        #expect(flight.leaderLeft() == [])
        _ = flight.headReceived(status: .ok)
        #expect(flight.partReceived(size: 11) == [.dropBacklog, .handBack(other), .abandonCall])
    }

    // MARK: Final events

    @Test func completionTwiceChangesNothing() {
        var flight = machine()
        let (a, _) = flight.followerJoined(shape: Self.stream)
        _ = flight.headReceived(status: .ok)
        #expect(flight.completed() == [.endFollower(a)])
        #expect(flight.completed() == [])
        #expect(flight.cut() == [])
        #expect(flight.failed(Self.error) == [])
        #expect(flight.partReceived(size: 1) == [])
        #expect(flight.headReceived(status: .ok) == [])
        #expect(flight.answer == .completed(.ok))
    }

    @Test func followerJoiningAfterACutIsHandedBack() {
        var flight = machine()
        _ = flight.headReceived(status: .ok)
        _ = flight.partReceived(size: 10)
        #expect(flight.cut() == [])
        #expect(flight.cut() == [])
        let (late, joined) = flight.followerJoined(shape: Self.stream)
        #expect(joined == [.handBack(late)])
    }

    @Test func answerEndingWithoutAHeadHandsEveryoneBack() {
        var flight = machine()
        let (a, _) = flight.followerJoined(shape: Self.stream)
        let (b, _) = flight.followerJoined(shape: .json)
        #expect(flight.completed() == [.handBack(a), .handBack(b)])
    }
}
