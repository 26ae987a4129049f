import NIOCore
import NIOHTTP1
import Testing
@testable import RepriseProxy

/// The upstream connection's decisions as traces: events in, actions out, with the time passed
/// in (no sockets, no clock). `UpstreamConnectionHandlerTests` runs the same machine on an
/// `EmbeddedChannel`.
@Suite struct UpstreamConnectionStateMachineTests {
    typealias Machine = UpstreamConnectionStateMachine

    static let readTimeout = TimeAmount.seconds(30)
    static let totalTimeout = TimeAmount.seconds(120)
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func head(_ status: HTTPResponseStatus = .ok, headers: HTTPHeaders = ["content-length": "2"]) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: status, headers: headers)
    }

    /// A machine with a keep-alive call started at `now` (deadline `totalTimeout` later).
    static func inCall(now: NIODeadline = t0, keepAlive: Bool = true) -> Machine {
        var machine = Machine(readTimeout: readTimeout)
        #expect(machine.callStarted(requestKeepAlive: keepAlive, deadline: now + totalTimeout, now: now)
            == .sendRequest(wakeUpBy: now + readTimeout))
        return machine
    }

    // MARK: Calls

    @Test func aCallWritesItsRequestAndArmsTheEarlierOfItsDeadlineAndTheReadTimeout() {
        var machine = Machine(readTimeout: Self.readTimeout)
        #expect(machine.callStarted(requestKeepAlive: true, deadline: Self.t0 + .seconds(5), now: Self.t0)
            == .sendRequest(wakeUpBy: Self.t0 + .seconds(5)))
        #expect(machine.state == .inCall(deadline: Self.t0 + .seconds(5), keepAlive: true))

        var long = Machine(readTimeout: Self.readTimeout)
        #expect(long.callStarted(requestKeepAlive: true, deadline: Self.t0 + Self.totalTimeout, now: Self.t0)
            == .sendRequest(wakeUpBy: Self.t0 + Self.readTimeout))
    }

    @Test func oneXXHeadsAreSkippedAndTheRealHeadIsForwarded() {
        var machine = Self.inCall()
        #expect(machine.responsePartReceived(.head(Self.head(.continue)), now: Self.t0) == .none)
        #expect(machine.responsePartReceived(.head(Self.head(HTTPResponseStatus(statusCode: 103))), now: Self.t0) == .none)
        #expect(machine.responsePartReceived(.head(Self.head()), now: Self.t0) == .forwardHead(Self.head()))
        #expect(machine.responsePartReceived(.body(ByteBuffer(string: "{}")), now: Self.t0) == .forwardBodyPart(ByteBuffer(string: "{}")))
        #expect(machine.responsePartReceived(.end(nil), now: Self.t0) == .releaseAndFinishCall)

        // 101 is a final head.
        var switching = Self.inCall()
        let upgrade = Self.head(.switchingProtocols, headers: [:])
        #expect(switching.responsePartReceived(.head(upgrade), now: Self.t0) == .forwardHead(upgrade))
    }

    @Test func keepAliveIsDecidedByTheRequestAndTheResponse() {
        var both = Self.inCall()
        _ = both.responsePartReceived(.head(Self.head()), now: Self.t0)
        #expect(both.responsePartReceived(.end(nil), now: Self.t0) == .releaseAndFinishCall)
        #expect(both.state == .idle)

        var responseCloses = Self.inCall()
        let closing = Self.head(headers: ["content-length": "0", "connection": "close"])
        _ = responseCloses.responsePartReceived(.head(closing), now: Self.t0)
        #expect(responseCloses.responsePartReceived(.end(nil), now: Self.t0) == .closeAndFinishCall)
        #expect(responseCloses.state == .closing)

        var requestCloses = Self.inCall(keepAlive: false)
        _ = requestCloses.responsePartReceived(.head(Self.head()), now: Self.t0)
        #expect(requestCloses.responsePartReceived(.end(nil), now: Self.t0) == .closeAndFinishCall)

        // HTTP/1.0 answers are kept alive only when they say so.
        var old = Self.inCall()
        _ = old.responsePartReceived(.head(HTTPResponseHead(version: .http1_0, status: .ok)), now: Self.t0)
        #expect(old.responsePartReceived(.end(nil), now: Self.t0) == .closeAndFinishCall)
    }

    @Test func aReleasedConnectionRestsAndTakesTheNextCall() {
        var machine = Self.inCall()
        _ = machine.responsePartReceived(.head(Self.head()), now: Self.t0)
        _ = machine.responsePartReceived(.end(nil), now: Self.t0)
        let t1 = Self.t0 + .seconds(1)
        #expect(machine.restRequested(until: t1 + .seconds(20)) == .armWakeUp(by: t1 + .seconds(20)))
        #expect(machine.state == .resting(until: t1 + .seconds(20)))
        let t2 = t1 + .seconds(10)
        #expect(machine.callStarted(requestKeepAlive: true, deadline: t2 + Self.totalTimeout, now: t2) == .sendRequest(wakeUpBy: t2 + Self.readTimeout))
        #expect(machine.wakeUpFired(now: t1 + .seconds(20)) == .armWakeUp(by: t2 + Self.readTimeout), "the rest no longer counts")
    }

    // MARK: Back-pressure

    @Test func readsPauseUntilTheSinkTookThePartAndAHeldReadIsIssuedThen() {
        var machine = Self.inCall()
        #expect(machine.readRequested() == .read)
        _ = machine.responsePartReceived(.head(Self.head()), now: Self.t0)
        #expect(machine.readRequested() == .read, "a head does not pause")
        #expect(machine.responsePartReceived(.body(ByteBuffer(string: "a")), now: Self.t0) == .forwardBodyPart(ByteBuffer(string: "a")))
        #expect(machine.readRequested() == .none)
        #expect(machine.readRequested() == .none)
        #expect(machine.bodyPartTaken() == .read, "the held read, once")
        #expect(machine.readRequested() == .read)

        // Taken at once (the future had succeeded): nothing was held.
        _ = machine.responsePartReceived(.body(ByteBuffer(string: "b")), now: Self.t0)
        #expect(machine.bodyPartTaken() == .none)
        #expect(machine.readRequested() == .read)
    }

    // MARK: Ends other than the answer's

    @Test func anAbandonedCallClosesTheConnection() {
        var machine = Self.inCall()
        _ = machine.responsePartReceived(.head(Self.head()), now: Self.t0)
        #expect(machine.callAbandoned() == .forgetCallAndClose)
        #expect(machine.state == .closing)
        #expect(machine.responsePartReceived(.body(ByteBuffer(string: "{}")), now: Self.t0) == .none, "the rest is dropped")
        #expect(machine.responsePartReceived(.end(nil), now: Self.t0) == .none)
        #expect(machine.callAbandoned() == .none)
        #expect(machine.channelInactive() == .reportClosed)

        var resting = Machine(readTimeout: Self.readTimeout)
        #expect(resting.callAbandoned() == .none, "no call to abandon")
    }

    @Test func theChannelGoingInactiveFailsTheCallRemoteClosed() {
        var machine = Self.inCall()
        _ = machine.responsePartReceived(.head(Self.head()), now: Self.t0)
        #expect(machine.channelInactive() == .reportClosedAndFailCall(.remoteClosed))
        #expect(machine.state == .closed)
        #expect(machine.channelInactive() == .none)
        #expect(machine.callStarted(requestKeepAlive: true, deadline: Self.t0 + Self.totalTimeout, now: Self.t0) == .refuseCall(.remoteClosed))
        #expect(machine.closeRequested() == .none)

        var idle = Machine(readTimeout: Self.readTimeout)
        #expect(idle.channelInactive() == .reportClosed)
    }

    @Test func aParserErrorIsABadResponseAndAnyOtherErrorARemoteClose() {
        var parser = Self.inCall()
        #expect(parser.errorCaught(HTTPParserError.invalidStatus) == .closeAndFailCall(.badResponse("\(HTTPParserError.invalidStatus)")))
        #expect(parser.state == .closing)
        #expect(parser.errorCaught(HTTPParserError.invalidStatus) == .none, "the call was failed once")
        #expect(parser.channelInactive() == .reportClosed)

        var other = Self.inCall()
        _ = other.responsePartReceived(.head(Self.head()), now: Self.t0)
        #expect(other.errorCaught(ChannelError.ioOnClosedChannel) == .closeAndFailCall(.remoteClosed))

        var idle = Machine(readTimeout: Self.readTimeout)
        #expect(idle.errorCaught(ChannelError.ioOnClosedChannel) == .close)
    }

    @Test func theTotalDeadlineFailsTheCallDeadlineExceeded() {
        let t0 = Self.t0
        var machine = Machine(readTimeout: Self.readTimeout)
        #expect(machine.callStarted(requestKeepAlive: true, deadline: t0 + .seconds(45), now: t0) == .sendRequest(wakeUpBy: t0 + .seconds(30)))
        _ = machine.responsePartReceived(.head(Self.head()), now: t0 + .seconds(20))
        // The read timeout has not passed (a part came at 20 s): the next wake-up is at the deadline.
        #expect(machine.wakeUpFired(now: t0 + .seconds(30)) == .armWakeUp(by: t0 + .seconds(45)))
        _ = machine.responsePartReceived(.body(ByteBuffer(string: "a")), now: t0 + .seconds(44))
        #expect(machine.wakeUpFired(now: t0 + .seconds(45)) == .closeAndFailCall(.deadlineExceeded))
        #expect(machine.state == .closing)
        #expect(machine.wakeUpFired(now: t0 + .seconds(90)) == .none)
    }

    @Test func noByteForTheReadTimeoutFailsTheCallReadTimeout() {
        let t0 = Self.t0
        var machine = Self.inCall(now: t0)
        // Early wake-ups (one served an earlier deadline) re-arm for the next.
        #expect(machine.wakeUpFired(now: t0 + .seconds(10)) == .armWakeUp(by: t0 + Self.readTimeout))
        _ = machine.responsePartReceived(.head(Self.head()), now: t0 + .seconds(25))
        #expect(machine.wakeUpFired(now: t0 + Self.readTimeout) == .armWakeUp(by: t0 + .seconds(25) + Self.readTimeout))
        #expect(machine.wakeUpFired(now: t0 + .seconds(55) - .nanoseconds(1)) == .armWakeUp(by: t0 + .seconds(55)))
        #expect(machine.wakeUpFired(now: t0 + .seconds(55)) == .closeAndFailCall(.readTimeout))
        #expect(machine.channelInactive() == .reportClosed)
    }

    @Test func theEndOfAnIdleRestClosesTheConnection() {
        var machine = Machine(readTimeout: Self.readTimeout)
        let until = Self.t0 + .seconds(60)
        #expect(machine.restRequested(until: until) == .armWakeUp(by: until))
        #expect(machine.wakeUpFired(now: Self.t0 + .seconds(30)) == .armWakeUp(by: until))
        #expect(machine.wakeUpFired(now: until) == .close)
        #expect(machine.state == .closing)
        #expect(machine.callStarted(requestKeepAlive: true, deadline: until + Self.totalTimeout, now: until) == .refuseCall(.remoteClosed),
                "a closing connection takes no call")
        #expect(machine.restRequested(until: until + .seconds(60)) == .none)
    }

    @Test func anAnswerNobodyAskedForClosesTheConnection() {
        var resting = Machine(readTimeout: Self.readTimeout)
        _ = resting.restRequested(until: Self.t0 + .seconds(60))
        #expect(resting.responsePartReceived(.head(Self.head()), now: Self.t0) == .close)
        #expect(resting.responsePartReceived(.end(nil), now: Self.t0) == .none)

        var fresh = Machine(readTimeout: Self.readTimeout)
        #expect(fresh.responsePartReceived(.body(ByteBuffer(string: "x")), now: Self.t0) == .close)
    }

    @Test func thePoolClosesAnIdleConnectionAndABusyOneEndsWithItsChannel() {
        var idle = Machine(readTimeout: Self.readTimeout)
        #expect(idle.closeRequested() == .close)
        #expect(idle.closeRequested() == .none)

        var busy = Self.inCall()
        #expect(busy.closeRequested() == .close)
        #expect(busy.channelInactive() == .reportClosedAndFailCall(.remoteClosed))
    }

    @Test func aBusyConnectionRefusesASecondCall() {
        var machine = Self.inCall()
        #expect(machine.callStarted(requestKeepAlive: true, deadline: Self.t0 + Self.totalTimeout, now: Self.t0) == .refuseCall(.remoteClosed))
        #expect(machine.state == .inCall(deadline: Self.t0 + Self.totalTimeout, keepAlive: true), "the call in progress goes on")
    }
}
