import Foundation
import Testing

/// The mock upstream's faults for hostile answers, checked on the raw bytes it sends: the
/// hostile suites rely on each of them doing exactly what its header says.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HostileMockFaultTests {
    static func request(stream: Bool = false, includeUsage: Bool = false, faults: [String]) -> [UInt8] {
        var body = Chat.body(Chat.freshQuestion("mock-fault"), stream: stream)
        if includeUsage {
            body = body.replacingOccurrences(of: "\"stream\":true", with: "\"stream\":true,\"stream_options\":{\"include_usage\":true}")
        }
        return HostileRequest.bytes(lines: faults.map(HostileRequest.line), body: Array(body.utf8))
    }

    static func exchange(_ mock: MockUpstream, _ bytes: [UInt8]) throws -> RawHTTPExchange.Outcome {
        try RawHTTPExchange.send(bytes, port: mock.port, timeout: .seconds(10))
    }

    @Test func markerGoesIntoTheDocumentAndEveryEvent() async throws {
        try await withMockUpstream { mock in
            guard case .answered(let json, _) = try Self.exchange(mock, Self.request(faults: ["X-Mock-Marker: M-1"])) else {
                Issue.record("no answer")
                return
            }
            #expect(try TestJSON.object(json.text)["mock_marker"] as? String == "M-1")
            guard case .answered(let stream, _) = try Self.exchange(mock, Self.request(stream: true, faults: ["X-Mock-Marker: M-2"])) else {
                Issue.record("no stream answer")
                return
            }
            let events = ServerSentEvents.dataPayloads(stream.text)
            #expect(events.last == "[DONE]")
            for event in events.dropLast() {
                #expect(try TestJSON.object(event)["mock_marker"] as? String == "M-2")
            }
        }
    }

    @Test func usageIsTheGivenTextInDocumentsAndStreams() async throws {
        try await withMockUpstream { mock in
            let usage = #"{"prompt_tokens":9223372036854775807,"completion_tokens":1e400}"#
            guard case .answered(let json, _) = try Self.exchange(mock, Self.request(faults: ["X-Mock-Usage: \(usage)"])) else {
                Issue.record("no answer")
                return
            }
            #expect(json.text.contains("\"usage\":\(usage)"))
            guard case .answered(let stream, _) = try Self.exchange(
                mock, Self.request(stream: true, includeUsage: true, faults: ["X-Mock-Usage: -1"])
            ) else {
                Issue.record("no stream answer")
                return
            }
            #expect(stream.text.contains("\"usage\":-1}"))
        }
    }

    @Test func errorBodyWith200() async throws {
        try await withMockUpstream { mock in
            guard case .answered(let response, _) = try Self.exchange(mock, Self.request(faults: ["X-Mock-Error-Body-200: 1"])) else {
                Issue.record("no answer")
                return
            }
            #expect(response.status == 200)
            #expect(OpenAIErrorDocument(response.text)?.code == "mock_error_body_200")
        }
    }

    @Test(arguments: ["fold", "cr", "lf"])
    func headerWithALineBreak(_ mode: String) async throws {
        try await withMockUpstream { mock in
            let outcome = try Self.exchange(mock, Self.request(faults: ["X-Mock-Header-CRLF: \(mode)"]))
            let expected = ["fold": "x-mock-folded: first\r\n second\r\n", "cr": "x-mock-cr: first\rsecond\r\n", "lf": "x-mock-lf: first\nx-mock-injected: second\r\n"]
            #expect(outcome.receivedText.contains(expected[mode] ?? "?"), "\(outcome)")
        }
    }

    @Test func headerOfTheGivenSize() async throws {
        try await withMockUpstream { mock in
            guard case .answered(let response, _) = try Self.exchange(mock, Self.request(faults: ["X-Mock-Header-Bytes: 204800"])) else {
                Issue.record("no answer")
                return
            }
            #expect(response.header("x-mock-big")?.utf8.count == 204_800)
        }
    }

    @Test func truncatedChunkAnnouncesMoreThanFollowsThenCloses() async throws {
        try await withMockUpstream { mock in
            let socket = try BlockingSocket(port: mock.port)
            socket.sendIgnoringClose(Self.request(stream: true, faults: ["X-Mock-Truncate-Chunk: 1", "X-Mock-Chunks: 6"]))
            var received: [UInt8] = []
            #expect(socket.readUntilClose(into: &received, deadline: .now + .seconds(10)), "the mock did not close")
            let text = String(decoding: received, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200"))
            #expect(!text.hasSuffix("0\r\n\r\n"))
            // The last chunk's size line announces more bytes than follow it.
            let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            let pieces = body.components(separatedBy: "\r\n")
            let lastSizeIndex = try #require(pieces.lastIndex { Int($0, radix: 16) != nil && !$0.isEmpty })
            let announced = try #require(Int(pieces[lastSizeIndex], radix: 16))
            let following = pieces[(lastSizeIndex + 1)...].joined(separator: "\r\n").utf8.count
            #expect(following < announced)
        }
    }

    @Test func rawResponseIsSentAsIsThenTheConnectionCloses() async throws {
        try await withMockUpstream { mock in
            let raw = "HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\nshort"
            let socket = try BlockingSocket(port: mock.port)
            socket.sendIgnoringClose(Self.request(faults: ["X-Mock-Raw-Response: \(Data(raw.utf8).base64EncodedString())"]))
            var received: [UInt8] = []
            #expect(socket.readUntilClose(into: &received, deadline: .now + .seconds(10)))
            #expect(String(decoding: received, as: UTF8.self) == raw)
            #expect(try await mock.stats().requests == 1)
        }
    }
}
