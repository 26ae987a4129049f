import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import RepriseProxy

/// `Flight` running its state machine's actions on real writers: followers on their own
/// `EmbeddedChannel`s, the leader's loop an `EmbeddedEventLoop` of its own.
@Suite struct FlightTests {
    /// Keeps the writer of the one request it is given, answering nothing.
    final class HoldingResponder: RequestResponder {
        var writer: ResponseWriter?
        func respond(to request: ProxyRequest, writer: ResponseWriter) { self.writer = writer }
    }

    static let content = #"data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":null}]}"# + "\n\n"
    static let finish = #"data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n"
    static let done = "data: [DONE]\n\n"
    static let leaderHeaders: HTTPHeaders = [
        "content-type": "text/event-stream", "set-cookie": "session=leader", "x-cache": "MISS", "x-reprise-attempts": "1",
    ]

    /// A follower's client connection with a request in progress, and its writer.
    static func follower() throws -> (channel: EmbeddedChannel, writer: ResponseWriter) {
        let responder = HoldingResponder()
        let channel = try ConnectionHandlerTests.channel(responder)
        try channel.writeInbound(ByteBuffer(string: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{}"))
        return (channel, try #require(responder.writer))
    }

    /// Runs the leader loop's queued work, then each follower's, and returns what each client got.
    static func deliver(leader: EmbeddedEventLoop, to followers: [EmbeddedChannel]) throws -> [String] {
        leader.run()
        return try followers.map { channel in
            channel.embeddedEventLoop.run()
            return try ConnectionHandlerTests.written(channel)
        }
    }

    static func leaderStream(_ flight: Flight) {
        flight.received(status: .ok, relayed: RelayedResponseHead(HTTPResponseHead(version: .http1_1, status: .ok, headers: leaderHeaders)), attempts: 1)
        flight.received(part: ByteBuffer(string: content + finish))
        flight.received(part: ByteBuffer(string: done))
        flight.completed()
    }

    @Test func followersGetTheStreamLiveOrConvertedWithTheHeadersAStoredAnswerKeeps() throws {
        let leader = EmbeddedEventLoop()
        let flight = Flight(leaderLoop: leader, leaderShape: .stream(includeUsage: false), maxEntryBytes: 1 << 20)
        let (live, liveWriter) = try Self.follower()
        let (json, jsonWriter) = try Self.follower()
        flight.join(writer: liveWriter, shape: .stream(includeUsage: false)) { Issue.record("handed back") }
        flight.join(writer: jsonWriter, shape: .json) { Issue.record("handed back") }
        _ = try Self.deliver(leader: leader, to: [live, json])

        Self.leaderStream(flight)
        let written = try Self.deliver(leader: leader, to: [live, json])
        #expect(written[0].hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(written[0].contains("x-cache: COALESCED"))
        #expect(!written[0].lowercased().contains("set-cookie"))
        #expect(written[0].contains(#""content":"hi""#))
        #expect(written[0].contains("data: [DONE]"))
        #expect(written[0].hasSuffix("0\r\n\r\n"), "the chunked body ends")
        #expect(written[1].hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(written[1].contains("content-type: application/json"))
        #expect(written[1].contains("x-cache: COALESCED"))
        #expect(written[1].contains(#""object":"chat.completion""#))
        #expect(written[1].contains(#""content":"hi""#))
    }

    @Test func followerThatNeedsADroppedBacklogGoesAlone() throws {
        let leader = EmbeddedEventLoop()
        let flight = Flight(leaderLoop: leader, leaderShape: .stream(includeUsage: false), maxEntryBytes: 16)
        let (json, jsonWriter) = try Self.follower()
        var wentAlone = false
        flight.join(writer: jsonWriter, shape: .json) { wentAlone = true }
        Self.leaderStream(flight)
        let written = try Self.deliver(leader: leader, to: [json])
        #expect(wentAlone)
        #expect(written[0].isEmpty)
    }

    @Test func reprisesOwnErrorReachesTheFollowerAsCoalesced() throws {
        let leader = EmbeddedEventLoop()
        let flight = Flight(leaderLoop: leader, leaderShape: .json, maxEntryBytes: 1 << 20)
        let (follower, writer) = try Self.follower()
        flight.join(writer: writer, shape: .json) { Issue.record("handed back") }
        leader.run()
        flight.failed(.upstreamUnreachable("connection refused"), headers: ["x-cache": "MISS", "x-reprise-attempts": "3"])
        let written = try Self.deliver(leader: leader, to: [follower])
        #expect(written[0].hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
        #expect(written[0].contains("x-cache: COALESCED"))
        #expect(written[0].contains("x-reprise-attempts: 3"))
        #expect(written[0].contains("upstream_unreachable"))
    }

    @Test func leaderLeavingAloneAbandonsTheCallOnce() throws {
        let leader = EmbeddedEventLoop()
        let flight = Flight(leaderLoop: leader, leaderShape: .json, maxEntryBytes: 1 << 20)
        var abandoned = 0
        flight.onAbandoned = { abandoned += 1 }
        flight.leaderLeft()
        flight.leaderLeft()
        #expect(abandoned == 1)
        #expect(!flight.hasActiveFollowers)
    }
}
