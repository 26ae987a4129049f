import Foundation
import NIOCore
import NIOPosix
import Testing

/// Request coalescing and cancellation: identical concurrent misses share one upstream call, a
/// leader's departure does not hurt its followers, and an answer nobody waits for is cancelled.
extension ResilienceE2ETests {
    /// What one concurrent client received.
    struct CollectedAnswer: Sendable {
        let stream: Bool
        let status: Int
        let cacheStatus: String?
        let text: String
        let bodyError: String?
    }

    /// Sends one request on its own connection and reads the whole body (errors in the body recorded).
    static func collect(url: String, body: String, stream: Bool, headers: [(String, String)]) async throws -> CollectedAnswer {
        let response = try await TestHTTP.stream(.POST, url, headers: headers, body: body, timeout: .seconds(60))
        return CollectedAnswer(
            stream: stream, status: response.status, cacheStatus: response.headers.first(name: "x-cache"),
            text: response.text, bodyError: response.bodyError.map { "\($0)" }
        )
    }

    @Test func twoHundredConcurrentIdenticalRequestsShareOneUpstreamCall() async throws {
        try await withProxy(yaml: "") { bed in
            let question = "coalesce \(UUID().uuidString)"
            let url = bed.proxy.url("/v1/chat/completions")
            // The flight lasts about 0.5 s + 11 × 150 ms: long enough for 200 clients to join.
            let headers = [
                ("authorization", "Bearer sk-resilience"), ("x-mock-latency-ms", "500"),
                ("x-mock-chunk-delay-ms", "150"), ("x-mock-chunks", "12"),
            ]
            let answers = try await withThrowingTaskGroup(of: CollectedAnswer.self) { group in
                // A streaming leader first, so its followers get the live fan-out (same shape)
                // and the converted answer (JSON).
                group.addTask {
                    try await Self.collect(url: url, body: Self.chat(question: question, stream: true), stream: true, headers: headers)
                }
                _ = try await bed.mock.waitForStats(timeout: .seconds(10)) { $0.requests >= 1 }
                for index in 1..<200 {
                    let stream = index % 2 == 0  // 99 more streams: 100 of each with the leader
                    group.addTask {
                        try await Self.collect(url: url, body: Self.chat(question: question, stream: stream), stream: stream, headers: headers)
                    }
                }
                var answers: [CollectedAnswer] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }

            #expect(answers.count == 200)
            #expect(try await bed.mock.stats().requests == 1, "identical concurrent requests called the upstream more than once")
            #expect(answers.allSatisfy { $0.status == 200 }, "statuses: \(Set(answers.map(\.status)))")
            #expect(answers.allSatisfy { $0.bodyError == nil }, "broken bodies: \(answers.compactMap(\.bodyError).prefix(3))")
            let cacheStatuses = answers.map { $0.cacheStatus ?? "none" }
            #expect(cacheStatuses.filter { $0 == "MISS" }.count == 1, "X-Cache values: \(Dictionary(grouping: cacheStatuses) { $0 }.mapValues(\.count))")
            #expect(cacheStatuses.filter { $0 == "COALESCED" }.count == 199)

            let streams = answers.filter(\.stream)
            let jsons = answers.filter { !$0.stream }
            #expect(streams.count == 100 && jsons.count == 100)
            let streamText = try #require(streams.first?.text)
            #expect(streams.allSatisfy { $0.text == streamText }, "stream bodies differ")
            let events = ServerSentEvents.dataPayloads(streamText)
            #expect(events.last == "[DONE]")
            let streamedContent = try Self.streamedContent(events)
            #expect(!streamedContent.isEmpty)

            let jsonText = try #require(jsons.first?.text)
            let differing = jsons.filter { $0.text != jsonText }
            #expect(differing.isEmpty, "\(differing.count) JSON bodies differ, e.g.\n\(jsonText)\n\(differing.first?.text ?? "")")
            for json in jsons {
                #expect(try Self.messageContent(json.text) == streamedContent)
            }
        }
    }

    @Test func followerGetsTheWholeAnswerAfterTheLeaderLeft() async throws {
        try await withProxy(yaml: "") { bed in
            let question = "leader leaves \(UUID().uuidString)"
            let streamBody = Self.chat(question: question, stream: true)
            // About 15 × 200 ms of stream: time for the follower to join and the leader to leave.
            let slow = ["X-Mock-Chunk-Delay-Ms: 200", "X-Mock-Chunks: 15"]
            var leader: RawHTTPConnection? = try bed.proxy.connect()
            try leader?.send(Self.requestText(streamBody, headers: slow))
            _ = try await bed.mock.waitForStats(timeout: .seconds(10)) { $0.requests >= 1 }

            let proxyURL = bed.proxy.url("/v1/chat/completions")
            let headers = [("authorization", "Bearer sk-resilience"), ("x-mock-chunk-delay-ms", "200"), ("x-mock-chunks", "15")]
            async let streamFollower = TestHTTP.stream(.POST, proxyURL, headers: headers, body: streamBody)
            async let jsonFollower = TestHTTP.send(.POST, proxyURL, headers: headers, body: Self.chat(question: question))
            try await Task.sleep(for: .milliseconds(700))
            leader = nil  // closes the leader's connection mid-stream
            #expect(leader == nil)

            let streamed = try await streamFollower
            let json = try await jsonFollower
            #expect(streamed.status == 200)
            #expect(streamed.headers.first(name: "x-cache") == "COALESCED")
            #expect(streamed.bodyError == nil)
            #expect(streamed.events.last == "[DONE]", "the follower's stream ended early: \(streamed.events.suffix(2))")
            #expect(json.status == 200)
            #expect(json.headers.first(name: "x-cache") == "COALESCED")
            #expect(try Self.messageContent(json.text) == Self.streamedContent(streamed.events))

            let stats = try await bed.mock.stats()
            #expect(stats.requests == 1)
            #expect(stats.clientDisconnects == 0, "the upstream call was cancelled although followers waited")
            // The answer the followers got is complete, so it is also stored.
            try await Task.sleep(for: .milliseconds(300))
            let repeated = try post(bed.proxy, streamBody)
            #expect(repeated.header("x-cache") == "HIT")
            #expect(try await bed.mock.stats().requests == 1)
        }
    }

    @Test func clientDisconnectCancelsTheUpstreamCall() async throws {
        try await withProxy(yaml: "") { bed in
            // Cacheable (the client leads a flight nobody joins), then `no-cache` (no flight).
            for (round, extra) in [[], ["Cache-Control: no-cache"]].enumerated() {
                var client: RawHTTPConnection? = try bed.proxy.connect()
                try client?.send(Self.requestText(Self.chat("disconnect \(round)"), headers: ["X-Mock-Latency-Ms: 10000"] + extra))
                _ = try await bed.mock.waitForStats(timeout: .seconds(10)) { $0.requests >= round + 1 }
                client = nil  // the client hangs up while the upstream is still working
                #expect(client == nil)
                let stats = try await bed.mock.waitForStats(timeout: .seconds(5)) { $0.clientDisconnects >= round + 1 }
                #expect(stats.clientDisconnects == round + 1, "round \(round) \(extra): the upstream call went on after the client left")
                #expect(stats.requests == round + 1, "round \(round): the abandoned call was retried")
            }
        }
    }
}
