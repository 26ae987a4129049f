import Foundation
import NIOConcurrencyHelpers
import Testing

/// Redis is an accelerator, never a dependency: killed, paused or absent, it costs clients at
/// most the lookup timeout and never an error, and sharing comes back without a restart.
@Suite(.serialized) struct RedisFaultTests {
    /// What one client request of a load ended with.
    private struct Outcome: Sendable {
        let index: Int
        let status: Int?
        let error: String?
        let seconds: Double
    }

    @Test func redisKilledDuringLoadFailsNoRequest() async throws {
        try await withRedisTestBed { bed in
            let proxy = try await bed.startProxy(lookupTimeout: "200ms")
            let observer = try await bed.startProxy(memory: false, lookupTimeout: "200ms")
            let repeated = (0..<8).map { Chat.freshQuestion("repeated \($0)") }
            let total = 200
            let completed = NIOLockedValueBox(0)

            let (outcomes, keysBeforeKill, completedAtKill) = try await withThrowingTaskGroup(of: [Outcome].self) { group in
                for worker in 0..<10 {
                    group.addTask {
                        var outcomes: [Outcome] = []
                        for index in stride(from: worker, to: total, by: 10) {
                            // Mixed: repeats (hits once stored) and unique questions (misses),
                            // some streamed.
                            let question = index % 3 == 0 ? Chat.freshQuestion("unique") : repeated[index % repeated.count]
                            outcomes.append(await Self.timedAsk(proxy, question, index: index, stream: index % 4 == 1))
                            completed.withLockedValue { $0 += 1 }
                        }
                        return outcomes
                    }
                }
                // Kill Redis once about a third of the load is done.
                let deadline = ContinuousClock.now + .seconds(120)
                while completed.withLockedValue({ $0 }) < total / 3, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                let keys = try await bed.redis.keys().count
                await bed.redis.kill()
                let completedAtKill = completed.withLockedValue { $0 }
                return (try await group.reduce(into: []) { $0 += $1 }, keys, completedAtKill)
            }

            // The kill landed mid-load, while Redis was in use.
            #expect(keysBeforeKill > 0)
            #expect(completedAtKill < total)
            #expect(outcomes.count == total)
            let failed = outcomes.filter { $0.status != 200 }
            #expect(failed.isEmpty, "failed requests: \(failed.prefix(10))")
            #expect(proxy.process.isRunning)

            // Redis back on the same port (empty): sharing resumes without restarting either proxy.
            try await bed.redis.launch()
            try await Self.expectSharingResumes(from: proxy, to: observer)
        }
    }

    @Test func pausedRedisCostsAtMostTheLookupTimeout() async throws {
        try await withRedisTestBed { bed in
            let proxy = try await bed.startProxy(memory: false, lookupTimeout: "100ms")
            let observer = try await bed.startProxy(memory: false, lookupTimeout: "100ms")
            let stored = Chat.freshQuestion("stored")
            #expect(try await Chat.ask(proxy, stored).cacheStatus == "MISS")
            try await bed.redis.waitForKeys(count: 1)

            bed.redis.pause()
            var outcomes: [Outcome] = []
            // Sequential, so each duration is one request's own; the stored question first
            // (lookups time out while the breaker is still closed), then fresh ones.
            for index in 0..<20 {
                let question = index % 2 == 0 ? stored : Chat.freshQuestion("paused")
                outcomes.append(await Self.timedAsk(proxy, question, index: index))
            }
            // And a concurrent burst.
            outcomes += await withTaskGroup(of: Outcome.self) { group in
                for index in 20..<40 {
                    group.addTask { await Self.timedAsk(proxy, Chat.freshQuestion("burst"), index: index) }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            bed.redis.resume()

            let failed = outcomes.filter { $0.status != 200 }
            #expect(failed.isEmpty, "failed requests: \(failed.prefix(10))")
            // 100 ms lookup timeout plus generous slack for a loaded machine: a request must
            // never wait for the paused Redis itself.
            let slow = outcomes.filter { $0.seconds >= 3 }
            #expect(slow.isEmpty, "requests slower than 3 s: \(slow)")

            try await Self.expectSharingResumes(from: proxy, to: observer)
        }
    }

    @Test func redisDownAtStartThenStarted() async throws {
        try await withRedisTestBed(redisRunning: false) { bed in
            let proxy = try await bed.startProxy()
            let observer = try await bed.startProxy(memory: false)

            let ready = try await TestHTTP.send(.GET, proxy.url("/readyz"))
            #expect(ready.status == 200)
            let question = Chat.freshQuestion()
            let first = try await Chat.ask(proxy, question)
            #expect(first.status == 200)
            #expect(first.cacheStatus == "MISS")
            // L1 still works without Redis.
            #expect(try await Chat.ask(proxy, question).cacheStatus == "HIT")
            let other = try await Chat.ask(observer, question)
            #expect(other.status == 200)
            #expect(other.cacheStatus == "MISS")
            #expect(try await bed.upstreamCalls() == 2)

            try await bed.redis.launch()
            try await Self.expectSharingResumes(from: proxy, to: observer)
        }
    }

    /// Polls (up to ~15 s) until a fresh question answered by `writer` is a HIT from Redis at
    /// `reader` (which must have its L1 off): both found Redis again on their own.
    private static func expectSharingResumes(
        from writer: RepriseProcess, to reader: RepriseProcess, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        var attempts = 0
        while ContinuousClock.now < deadline {
            attempts += 1
            let question = Chat.freshQuestion("resume")
            let written = try await Chat.ask(writer, question)
            #expect(written.status == 200, sourceLocation: sourceLocation)
            // Give the fire-and-forget store a moment to land.
            try await Task.sleep(for: .milliseconds(200))
            let read = try await Chat.ask(reader, question)
            #expect(read.status == 200, sourceLocation: sourceLocation)
            if read.cacheStatus == "HIT" { return }
            try await Task.sleep(for: .milliseconds(300))
        }
        Issue.record("no HIT through Redis after \(attempts) attempts in 15 s", sourceLocation: sourceLocation)
    }

    private static func timedAsk(_ proxy: RepriseProcess, _ question: String, index: Int, stream: Bool = false) async -> Outcome {
        let start = ContinuousClock.now
        do {
            let response = try await Chat.ask(proxy, question, stream: stream)
            let elapsed = ContinuousClock.now - start
            let streamComplete = !stream || response.text.hasSuffix("data: [DONE]\n\n")
            return Outcome(index: index, status: streamComplete ? response.status : -1,
                           error: streamComplete ? nil : "stream incomplete", seconds: Self.seconds(elapsed))
        } catch {
            return Outcome(index: index, status: nil, error: "\(error)", seconds: Self.seconds(ContinuousClock.now - start))
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
