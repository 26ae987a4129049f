import Foundation
import Testing

/// `server.max_connections`: over the cap a client gets 503 `too_many_connections` and a
/// close, the connections under the cap keep working, and a freed slot is usable again.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HostileConnectionCapTests {
    static let cap = 8

    @Test func connectionOverTheCapGets503AndTheOthersKeepWorking() async throws {
        let yaml = """
            server:
              max_connections: \(Self.cap)

            """
        try await withMockAndReprise(yaml: yaml) { _, proxy in
            let healthz = Array("GET /healthz HTTP/1.1\r\nHost: reprise.test\r\n\r\n".utf8)
            // Fill the cap with keep-alive connections that each had one answer (so each is
            // surely accepted and counted).
            var held: [RawHTTPConnection] = []
            for _ in 0..<Self.cap {
                let connection = try proxy.connect(timeout: 10)
                try connection.send(healthz)
                #expect(try connection.readResponse().status == 200)
                held.append(connection)
            }

            let closeRequest = Array("GET /healthz HTTP/1.1\r\nHost: reprise.test\r\nConnection: close\r\n\r\n".utf8)
            let over = try RawHTTPExchange.send(closeRequest, port: proxy.port, waitForClose: true)
            guard case .answered(let response, let closed) = over else {
                Issue.record("over the cap: \(over)")
                return
            }
            #expect(response.status == 503)
            #expect(OpenAIErrorDocument(response.text)?.code == "too_many_connections", "\(response.text)")
            #expect(closed)

            // The connections under the cap still work.
            try held[0].send(healthz)
            #expect(try held[0].readResponse().status == 200)

            // A freed slot is usable again (the close takes a moment to be noticed).
            held.removeLast()
            let deadline = ContinuousClock.now + .seconds(10)
            var admitted = false
            while !admitted, ContinuousClock.now < deadline {
                if case .answered(let again, _) = try RawHTTPExchange.send(closeRequest, port: proxy.port), again.status == 200 {
                    admitted = true
                } else {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(admitted, "no connection admitted after one under the cap closed")
            #expect(proxy.process.isRunning)
        }
    }
}
