import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import RepriseProxy

/// Time-to-first-byte deadlines served by the pool's one wake-up instead of a task per attempt.
@Suite struct FirstByteDeadlinesTests {
    typealias Fixture = UpstreamConnectionHandlerTests.Fixture
    typealias Sink = UpstreamConnectionHandlerTests.RecordingSink

    static func call(on fixture: Fixture, _ sink: Sink) -> UpstreamCall {
        let request = UpstreamRequest(method: .GET, head: ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"), body: nil)
        return UpstreamCall(request: request, deadline: .now() + .seconds(120), sink: sink, pool: fixture.pool)
    }

    @Test func dueCallsAreTakenInWatchOrderAndTheRestKept() throws {
        let fixture = try Fixture()
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let (a, b, c, d) = (Self.call(on: fixture, fixture.sink()), Self.call(on: fixture, fixture.sink()),
                            Self.call(on: fixture, fixture.sink()), Self.call(on: fixture, fixture.sink()))
        var deadlines = FirstByteDeadlines()
        #expect(deadlines.earliest == nil)
        deadlines.watch(a, until: t0 + .seconds(3))
        deadlines.watch(b, until: t0 + .seconds(1))  // capped at the retry deadline: earlier than a's
        deadlines.watch(c, until: t0 + .seconds(2))
        deadlines.watch(d, until: t0 + .seconds(4))
        #expect(deadlines.earliest == t0 + .seconds(1))
        deadlines.unwatch(b)
        #expect(deadlines.earliest == t0 + .seconds(2))
        #expect(deadlines.takeDue(now: t0 + .milliseconds(1_999)).isEmpty)
        #expect(deadlines.takeDue(now: t0 + .seconds(3)).map(ObjectIdentifier.init) == [a, c].map(ObjectIdentifier.init))
        #expect(deadlines.earliest == t0 + .seconds(4))
        deadlines.unwatch(d)
        #expect(deadlines.isEmpty)
        _ = try? fixture.channel.finish()
    }

    /// A call without its head by the deadline is told (and goes on until its owner cancels
    /// it); a call whose watch ended (its head came) or that ended is not; a later deadline is
    /// told when it comes.
    @Test func thePoolsWakeUpTellsTheCallsPastTheirDeadlineOnly() throws {
        let fixture = try Fixture()
        let (late, answered, ended, later) = (fixture.sink(), fixture.sink(), fixture.sink(), fixture.sink())
        let lateCall = Self.call(on: fixture, late)
        let answeredCall = Self.call(on: fixture, answered)
        let endedCall = Self.call(on: fixture, ended)
        let laterCall = Self.call(on: fixture, later)
        lateCall.watchFirstByte(until: .now() - .milliseconds(1))
        answeredCall.watchFirstByte(until: .now() - .milliseconds(1))
        endedCall.watchFirstByte(until: .now() - .milliseconds(1))
        laterCall.watchFirstByte(until: .now() + .milliseconds(200))
        answeredCall.endFirstByteWatch()
        endedCall.cancel()
        fixture.channel.embeddedEventLoop.advanceTime(to: .now())
        #expect(late.events == ["first byte timed out"])
        #expect(!lateCall.isOver, "the owner decides (cancels, retries)")
        #expect(answered.events == [])
        #expect(ended.events == ["failed: \(UpstreamCallError.cancelled)"])
        #expect(later.events == [])
        fixture.channel.embeddedEventLoop.advanceTime(to: .now() + .milliseconds(250))
        #expect(later.events == ["first byte timed out"])
        #expect(late.events == ["first byte timed out"], "told once")
        _ = try? fixture.channel.finish()
    }
}
