import NIOCore
import NIOHTTP1
import RepriseHTTP
import Testing
@testable import RepriseProxy

/// The client connection's decisions as traces: events in, actions out, with the time passed in
/// (no sockets, no clock). `ConnectionHandlerTests` runs the same machine on an `EmbeddedChannel`.
@Suite struct HTTPConnectionStateMachineTests {
    typealias Machine = HTTPConnectionStateMachine

    static let limits = ConnectionLimits(maxBodyBytes: 1024, maxHeaderBytes: 512, idleTimeout: .seconds(60), requestTimeout: .seconds(30))
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func machine(refusal: ConnectionRefusal? = nil) -> Machine {
        Machine(limits: limits, refusal: refusal)
    }

    static func get(_ uri: String = "/healthz", version: HTTPVersion = .http1_1, headers: HTTPHeaders = ["host": "x"]) -> ParsedRequestHead {
        ParsedHeads.parse(HTTPRequestHead(version: version, method: .GET, uri: uri, headers: headers))
    }

    static func post(contentLength: Int?, extra: HTTPHeaders = HTTPHeaders()) -> ParsedRequestHead {
        var headers: HTTPHeaders = ["host": "x"]
        if let contentLength { headers.add(name: "content-length", value: String(contentLength)) }
        headers.add(contentsOf: extra)
        return ParsedHeads.parse(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions", headers: headers))
    }

    static func idle(_ from: NIODeadline) -> ConnectionDeadline { ConnectionDeadline(kind: .idle, due: from + limits.idleTimeout) }
    static func request(_ from: NIODeadline) -> ConnectionDeadline { ConnectionDeadline(kind: .request, due: from + limits.requestTimeout) }
    static func linger(_ from: NIODeadline) -> ConnectionDeadline { ConnectionDeadline(kind: .linger, due: from + Machine.lingerTime) }

    /// A bodyless request received whole and handed over at `now`.
    static func serve(_ head: ParsedRequestHead, on machine: inout Machine, now: NIODeadline) {
        #expect(machine.requestPartReceived(.head(head), now: now) == .armDeadline(request(now)))
        #expect(machine.requestPartReceived(.end(trailers: nil), now: now) == .respond(head: head, body: nil, receivedAt: now, keepAlive: true))
    }

    // MARK: Requests

    @Test func aKeepAliveRequestIsHandedOverWholeAndTheConnectionWaitsForTheNext() {
        var machine = Self.machine()
        let t0 = Self.t0, t1 = t0 + .seconds(1), t2 = t1 + .milliseconds(5), t3 = t2 + .milliseconds(20)
        #expect(machine.connectionStarted(now: t0) == .armDeadline(Self.idle(t0)))
        let head = Self.post(contentLength: 4)
        #expect(machine.requestPartReceived(.head(head), now: t1) == .armDeadline(Self.request(t1)))
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: "ab")), now: t1) == .none)
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: "cd")), now: t2) == .none)
        #expect(machine.requestPartReceived(.end(trailers: nil), now: t2) == .respond(head: head, body: ByteBuffer(string: "abcd"), receivedAt: t1, keepAlive: true))
        #expect(machine.deadline == nil, "no deadline while the response is produced")
        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: t3) == .armDeadline(Self.idle(t3)))
        #expect(machine.readRequested() == .read)
    }

    @Test func aHeadExpectingContinueIsAnsweredContinue() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        let head = Self.post(contentLength: 2, extra: ["expect": "100-Continue"])
        #expect(machine.requestPartReceived(.head(head), now: Self.t0) == .sendContinueAndArmDeadline(Self.request(Self.t0)))
    }

    @Test func anHTTP10RequestIsKeptAliveOnlyWhenItAsks() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        let plain = Self.get(version: .http1_0)
        #expect(machine.requestPartReceived(.head(plain), now: Self.t0) == .armDeadline(Self.request(Self.t0)))
        #expect(machine.requestPartReceived(.end(trailers: nil), now: Self.t0) == .respond(head: plain, body: nil, receivedAt: Self.t0, keepAlive: false))
        #expect(machine.responseEnded(keepAlive: false, isWritable: true, now: Self.t0) == .close)
        #expect(machine.requestPartReceived(.head(plain), now: Self.t0) == .none)

        var asking = Self.machine()
        _ = asking.connectionStarted(now: Self.t0)
        let keepAlive = Self.get(version: .http1_0, headers: ["connection": "keep-alive"])
        _ = asking.requestPartReceived(.head(keepAlive), now: Self.t0)
        #expect(asking.requestPartReceived(.end(trailers: nil), now: Self.t0) == .respond(head: keepAlive, body: nil, receivedAt: Self.t0, keepAlive: true))
    }

    @Test func partsInAnOrderTheDecoderNeverProducesAreABrokenStream() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: "x")), now: Self.t0)
            == .answerError(ConnectionErrorAnswer(error: .badRequest("malformed HTTP request"), head: nil)))

        var twoHeads = Self.machine()
        _ = twoHeads.connectionStarted(now: Self.t0)
        _ = twoHeads.requestPartReceived(.head(Self.get()), now: Self.t0)
        #expect(twoHeads.requestPartReceived(.head(Self.get()), now: Self.t0)
            == .answerError(ConnectionErrorAnswer(error: .badRequest("malformed HTTP request"), head: nil)))
    }

    // MARK: Limits and early answers

    @Test func aDeclaredLengthOverTheLimitIsAnswered413ThenLingersAndCloses() {
        var machine = Self.machine()
        let t0 = Self.t0, t1 = t0 + .milliseconds(1)
        _ = machine.connectionStarted(now: t0)
        let head = Self.post(contentLength: 1025)
        #expect(machine.requestPartReceived(.head(head), now: t0) == .answerError(ConnectionErrorAnswer(error: .bodyTooLarge(limit: 1024), head: head)))
        #expect(machine.deadline == nil)
        // The body the client sends anyway is not a request.
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: "x")), now: t0) == .none)
        #expect(machine.responseEnded(keepAlive: false, isWritable: true, now: t1) == .closeOutputAndLinger)
        #expect(machine.outputClosed(now: t1) == .readUntil(Self.linger(t1)))
        #expect(machine.readRequested() == .read, "lingering reads and drops")
        #expect(machine.requestPartReceived(.end(trailers: nil), now: t1) == .none)
        #expect(machine.wakeUpFired(now: t1 + .seconds(1)) == .armDeadline(Self.linger(t1)))
        #expect(machine.wakeUpFired(now: t1 + Machine.lingerTime) == .close)
        #expect(machine.channelInactive() == .none)
    }

    @Test func aBodyGrowingOverTheLimitIsAnswered413() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        let head = Self.post(contentLength: nil, extra: ["transfer-encoding": "chunked"])
        _ = machine.requestPartReceived(.head(head), now: Self.t0)
        #expect(machine.requestPartReceived(.body(ByteBuffer(repeating: 0x61, count: 1000)), now: Self.t0) == .none)
        #expect(machine.requestPartReceived(.body(ByteBuffer(repeating: 0x61, count: 24)), now: Self.t0) == .none)
        #expect(machine.requestPartReceived(.body(ByteBuffer(repeating: 0x61, count: 1)), now: Self.t0)
            == .answerError(ConnectionErrorAnswer(error: .bodyTooLarge(limit: 1024), head: head)))
        #expect(machine.responseEnded(keepAlive: false, isWritable: true, now: Self.t0) == .closeOutputAndLinger)
    }

    @Test func headersOverTheLimitAreAnswered431() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        let head = Self.get(headers: ["x-big": String(repeating: "a", count: 600)])
        #expect(machine.requestPartReceived(.head(head), now: Self.t0) == .answerError(ConnectionErrorAnswer(error: .headersTooLarge(limit: 512), head: head)))
    }

    @Test func parserErrorsAreAnsweredWhileNoResponseIsOnTheWire() {
        var overflow = Self.machine()
        _ = overflow.connectionStarted(now: Self.t0)
        let tooLarge = RequestParseError(.headTooLarge, reason: "over the limits", offset: 81_920)
        #expect(overflow.requestUnreadable(tooLarge) == .answerError(ConnectionErrorAnswer(error: .headersTooLarge(limit: 512), head: nil)))

        var malformed = Self.machine()
        _ = malformed.connectionStarted(now: Self.t0)
        let invalidMethod = RequestParseError(.llhttp(code: 6, name: "HPE_INVALID_METHOD"), reason: "Invalid method encountered", offset: 0)
        #expect(malformed.requestUnreadable(invalidMethod)
            == .answerError(ConnectionErrorAnswer(error: .badRequest("malformed HTTP request: invalid HTTP method"), head: nil)),
            "the text NIO's decoder gave")

        var other = Self.machine()
        _ = other.connectionStarted(now: Self.t0)
        #expect(other.errorCaught(ChannelError.ioOnClosedChannel) == .close)
    }

    @Test func anErrorDuringAResponseClosesAndTheResponseLearnsTheClientLeft() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        Self.serve(Self.get(), on: &machine, now: Self.t0)
        #expect(machine.requestUnreadable(RequestParseError(.llhttp(code: 6, name: "HPE_INVALID_METHOD"), reason: "", offset: 0)) == .close)
        #expect(machine.channelInactive() == .notifyClientLeft)
        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: Self.t0) == .none)
    }

    // MARK: Refusal (server.max_connections)

    @Test func aRefusedConnectionIsAnswered503AtOnceAndLingers() {
        let refusal = ConnectionRefusal(error: .tooManyConnections(limit: 3), afterTLSHandshake: false)
        var machine = Self.machine(refusal: refusal)
        let answer = ConnectionErrorAnswer(error: .tooManyConnections(limit: 3), head: nil, retryAfterSeconds: 1)
        #expect(machine.connectionStarted(now: Self.t0) == .answerError(answer))
        #expect(machine.deadline == nil)
        #expect(machine.requestPartReceived(.head(Self.get()), now: Self.t0) == .none, "a refused connection serves nothing")
        #expect(machine.tlsHandshakeCompleted() == .none)
        #expect(machine.responseEnded(keepAlive: false, isWritable: true, now: Self.t0) == .closeOutputAndLinger)
    }

    @Test func onATLSListenerTheRefusalWaitsForTheHandshake() {
        let refusal = ConnectionRefusal(error: .tooManyConnections(limit: 3), afterTLSHandshake: true)
        var machine = Self.machine(refusal: refusal)
        #expect(machine.connectionStarted(now: Self.t0) == .none)
        #expect(machine.deadline == nil)
        #expect(machine.tlsHandshakeCompleted() == .answerError(ConnectionErrorAnswer(error: .tooManyConnections(limit: 3), head: nil, retryAfterSeconds: 1)))

        var admitted = Self.machine()
        _ = admitted.connectionStarted(now: Self.t0)
        #expect(admitted.tlsHandshakeCompleted() == .none)
    }

    // MARK: Pipelining and back-pressure

    @Test func pipelinedRequestsAreQueuedAndStartedInOrderByOneLoop() {
        var machine = Self.machine()
        let t0 = Self.t0, t1 = t0 + .milliseconds(1), t2 = t1 + .milliseconds(1)
        _ = machine.connectionStarted(now: t0)
        Self.serve(Self.get("/1"), on: &machine, now: t0)
        for uri in ["/2", "/3"] {
            #expect(machine.requestPartReceived(.head(Self.get(uri)), now: t0) == .none)
            #expect(machine.requestPartReceived(.end(trailers: nil), now: t0) == .none)
        }
        #expect(machine.queuedPartCount == 4)
        #expect(machine.readRequested() == .none, "reads wait while requests are queued")

        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: t1) == .armDeadlineAndStartQueuedRequests(Self.idle(t1)))
        #expect(machine.nextQueuedPart(now: t1) == .armDeadline(Self.request(t1)))
        #expect(machine.nextQueuedPart(now: t1) == .respond(head: Self.get("/2"), body: nil, receivedAt: t1, keepAlive: true))
        // Answered at once (a hit): its end, inside the loop, starts no second loop.
        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: t1) == .armDeadline(Self.idle(t1)))
        #expect(machine.nextQueuedPart(now: t2) == .armDeadline(Self.request(t2)))
        #expect(machine.nextQueuedPart(now: t2) == .respond(head: Self.get("/3"), body: nil, receivedAt: t2, keepAlive: true))
        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: t2) == .armDeadline(Self.idle(t2)))
        #expect(machine.nextQueuedPart(now: t2) == .read, "the held read goes on once the queue is empty")
        #expect(machine.nextQueuedPart(now: t2) == nil)
        #expect(machine.readRequested() == .read)
    }

    @Test func aResponseThatIsNotAnsweredAtOnceStopsTheLoop() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        Self.serve(Self.get("/1"), on: &machine, now: Self.t0)
        for part: RequestParseEvent in [.head(Self.get("/2")), .end(trailers: nil), .head(Self.get("/3")), .end(trailers: nil)] {
            _ = machine.requestPartReceived(part, now: Self.t0)
        }
        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: Self.t0) == .armDeadlineAndStartQueuedRequests(Self.idle(Self.t0)))
        #expect(machine.nextQueuedPart(now: Self.t0) == .armDeadline(Self.request(Self.t0)))
        #expect(machine.nextQueuedPart(now: Self.t0) == .respond(head: Self.get("/2"), body: nil, receivedAt: Self.t0, keepAlive: true))
        #expect(machine.nextQueuedPart(now: Self.t0) == nil, "/2 is still being answered")
        #expect(machine.queuedPartCount == 2)
        // /2 ends later, outside any loop: a new loop starts /3.
        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: Self.t0) == .armDeadlineAndStartQueuedRequests(Self.idle(Self.t0)))
        #expect(machine.nextQueuedPart(now: Self.t0) == .armDeadline(Self.request(Self.t0)))
        #expect(machine.nextQueuedPart(now: Self.t0) == .respond(head: Self.get("/3"), body: nil, receivedAt: Self.t0, keepAlive: true))
    }

    @Test func queuedRequestsWaitWhileTheClientDoesNotTakeItsAnswers() {
        var machine = Self.machine()
        let t0 = Self.t0
        _ = machine.connectionStarted(now: t0)
        Self.serve(Self.get("/1"), on: &machine, now: t0)
        for part: RequestParseEvent in [.head(Self.get("/2")), .end(trailers: nil), .head(Self.get("/3")), .end(trailers: nil)] {
            _ = machine.requestPartReceived(part, now: t0)
        }
        #expect(machine.readRequested() == .none)
        // The answer to /1 filled the client's socket buffer.
        #expect(machine.responseEnded(keepAlive: true, isWritable: false, now: t0) == .armDeadline(Self.idle(t0)))
        #expect(machine.requestPartReceived(.head(Self.get("/4")), now: t0) == .none, "queued behind the others")
        #expect(machine.writabilityChanged(isWritable: false) == .none)

        #expect(machine.writabilityChanged(isWritable: true) == .startQueuedRequests)
        #expect(machine.nextQueuedPart(now: t0) == .armDeadline(Self.request(t0)))
        #expect(machine.nextQueuedPart(now: t0) == .respond(head: Self.get("/2"), body: nil, receivedAt: t0, keepAlive: true))
        // Full again after /2: /3 waits.
        #expect(machine.responseEnded(keepAlive: true, isWritable: false, now: t0) == .armDeadline(Self.idle(t0)))
        #expect(machine.nextQueuedPart(now: t0) == nil)
        #expect(machine.queuedPartCount == 3)
        #expect(machine.readRequested() == .none)

        #expect(machine.writabilityChanged(isWritable: true) == .startQueuedRequests)
        #expect(machine.nextQueuedPart(now: t0) == .armDeadline(Self.request(t0)))
        #expect(machine.nextQueuedPart(now: t0) == .respond(head: Self.get("/3"), body: nil, receivedAt: t0, keepAlive: true))
        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: t0) == .armDeadline(Self.idle(t0)))
        #expect(machine.nextQueuedPart(now: t0) == .armDeadline(Self.request(t0)), "/4's head; its end has not arrived")
        #expect(machine.nextQueuedPart(now: t0) == .read)
        #expect(machine.nextQueuedPart(now: t0) == nil)
        #expect(machine.requestPartReceived(.end(trailers: nil), now: t0) == .respond(head: Self.get("/4"), body: nil, receivedAt: t0, keepAlive: true))
    }

    @Test func aRequestArrivingWhileTheClientDoesNotReadWaitsToo() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        Self.serve(Self.get("/1"), on: &machine, now: Self.t0)
        #expect(machine.responseEnded(keepAlive: true, isWritable: false, now: Self.t0) == .armDeadline(Self.idle(Self.t0)))
        #expect(machine.requestPartReceived(.head(Self.get("/2")), now: Self.t0) == .none)
        #expect(machine.requestPartReceived(.end(trailers: nil), now: Self.t0) == .none)
        #expect(machine.readRequested() == .none)
        #expect(machine.writabilityChanged(isWritable: true) == .startQueuedRequests)
        #expect(machine.nextQueuedPart(now: Self.t0) == .armDeadline(Self.request(Self.t0)))
        #expect(machine.nextQueuedPart(now: Self.t0) == .respond(head: Self.get("/2"), body: nil, receivedAt: Self.t0, keepAlive: true))
        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: Self.t0) == .armDeadline(Self.idle(Self.t0)))
        #expect(machine.nextQueuedPart(now: Self.t0) == .read)
        #expect(machine.nextQueuedPart(now: Self.t0) == nil)
    }

    /// Before the state machine, parts queued behind a request answered early stayed queued and
    /// held every read, so the lingering close stopped reading after one read and the kernel
    /// could still reset the connection over the unread bytes.
    @Test func lingeringReadsEvenWhenPipelinedPartsWereQueued() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        Self.serve(Self.get("/1"), on: &machine, now: Self.t0)
        let tooLarge = Self.post(contentLength: 5000)
        for part: RequestParseEvent in [.head(tooLarge), .head(Self.get("/3")), .end(trailers: nil)] {
            _ = machine.requestPartReceived(part, now: Self.t0)
        }
        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: Self.t0) == .armDeadlineAndStartQueuedRequests(Self.idle(Self.t0)))
        #expect(machine.nextQueuedPart(now: Self.t0) == .answerError(ConnectionErrorAnswer(error: .bodyTooLarge(limit: 1024), head: tooLarge)))
        #expect(machine.responseEnded(keepAlive: false, isWritable: true, now: Self.t0) == .closeOutputAndLinger)
        #expect(machine.nextQueuedPart(now: Self.t0) == nil)
        #expect(machine.queuedPartCount == 0, "requests after the answer that ends the connection are dropped")
        #expect(machine.readRequested() == .read)
    }

    // MARK: Drain, abort, client gone

    @Test func drainingClosesAnIdleConnectionAtOnce() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        #expect(machine.drainRequested() == .close)
        #expect(machine.isDraining)
        #expect(machine.requestPartReceived(.head(Self.get()), now: Self.t0) == .none)
    }

    @Test func drainingEndsABusyConnectionAfterItsResponse() {
        var receiving = Self.machine()
        _ = receiving.connectionStarted(now: Self.t0)
        _ = receiving.requestPartReceived(.head(Self.get()), now: Self.t0)
        #expect(receiving.drainRequested() == .none)
        #expect(receiving.requestPartReceived(.end(trailers: nil), now: Self.t0) == .respond(head: Self.get(), body: nil, receivedAt: Self.t0, keepAlive: false))

        var responding = Self.machine()
        _ = responding.connectionStarted(now: Self.t0)
        Self.serve(Self.get(), on: &responding, now: Self.t0)
        _ = responding.requestPartReceived(.head(Self.get("/2")), now: Self.t0)
        #expect(responding.drainRequested() == .none)
        #expect(responding.responseEnded(keepAlive: true, isWritable: true, now: Self.t0) == .close)
        #expect(responding.queuedPartCount == 0)
    }

    @Test func anAbortedResponseClosesTheConnection() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        Self.serve(Self.get(), on: &machine, now: Self.t0)
        #expect(machine.responseAborted() == .close)
        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: Self.t0) == .none)
        #expect(machine.channelInactive() == .none, "the aborted writer is finished already")
    }

    @Test func aClientLeavingMidResponseIsToldToTheWriterAndEverythingQueuedIsDropped() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        Self.serve(Self.get(), on: &machine, now: Self.t0)
        _ = machine.requestPartReceived(.head(Self.get("/2")), now: Self.t0)
        #expect(machine.channelInactive() == .notifyClientLeft)
        #expect(machine.queuedPartCount == 0)
        #expect(machine.deadline == nil)
        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: Self.t0) == .none)
        #expect(machine.wakeUpFired(now: Self.t0 + .seconds(3600)) == .none)

        var idle = Self.machine()
        _ = idle.connectionStarted(now: Self.t0)
        #expect(idle.channelInactive() == .none)
    }

    // MARK: Timeouts (the time is passed in)

    @Test func anIdleConnectionClosesWhenTheIdleTimeoutPasses() {
        var machine = Self.machine()
        let t0 = Self.t0
        #expect(machine.connectionStarted(now: t0) == .armDeadline(Self.idle(t0)))
        #expect(machine.wakeUpFired(now: t0 + .seconds(30)) == .armDeadline(Self.idle(t0)), "an early wake-up asks for another")
        #expect(machine.wakeUpFired(now: t0 + .seconds(60)) == .close)
        #expect(machine.deadline == nil)
        #expect(machine.requestPartReceived(.head(Self.get()), now: t0 + .seconds(60)) == .none)
    }

    @Test func aRequestNotReceivedInTimeIsAnswered408ThenLingers() {
        var machine = Self.machine()
        let t0 = Self.t0, t1 = t0 + .seconds(59)
        _ = machine.connectionStarted(now: t0)
        let head = Self.post(contentLength: 10)
        #expect(machine.requestPartReceived(.head(head), now: t1) == .armDeadline(Self.request(t1)))
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: "12345")), now: t1 + .seconds(1)) == .none)
        // The idle deadline (t0 + 60 s) was replaced by the request's.
        #expect(machine.wakeUpFired(now: t0 + .seconds(60)) == .armDeadline(Self.request(t1)))
        #expect(machine.wakeUpFired(now: t1 + .seconds(30))
            == .requestTimedOut(ConnectionErrorAnswer(error: .requestTimeout("the request was not received completely within server.request_timeout"), head: head)))
        #expect(machine.requestPartReceived(.body(ByteBuffer(string: "67890")), now: t1 + .seconds(30)) == .none)
        #expect(machine.responseEnded(keepAlive: false, isWritable: true, now: t1 + .seconds(30)) == .closeOutputAndLinger)
    }

    @Test func noDeadlineRunsWhileAResponseIsProduced() {
        var machine = Self.machine()
        let t0 = Self.t0
        _ = machine.connectionStarted(now: t0)
        Self.serve(Self.get(), on: &machine, now: t0)
        #expect(machine.wakeUpFired(now: t0 + .seconds(3600)) == .none)
        let t1 = t0 + .seconds(3600)
        #expect(machine.responseEnded(keepAlive: true, isWritable: true, now: t1) == .armDeadline(Self.idle(t1)))
        #expect(machine.wakeUpFired(now: t1 + .seconds(59)) == .armDeadline(Self.idle(t1)))
        #expect(machine.wakeUpFired(now: t1 + .seconds(61)) == .close)
    }

    @Test func theOutputClosingAfterTheChannelWentAwayStartsNoLinger() {
        var machine = Self.machine()
        _ = machine.connectionStarted(now: Self.t0)
        _ = machine.requestPartReceived(.head(Self.post(contentLength: 5000)), now: Self.t0)
        #expect(machine.responseEnded(keepAlive: false, isWritable: true, now: Self.t0) == .closeOutputAndLinger)
        #expect(machine.channelInactive() == .none)
        #expect(machine.outputClosed(now: Self.t0) == .none)
        #expect(machine.deadline == nil)
    }
}
