import Foundation
import NIOCore

/// `GET /_mock/stats` of the mock upstream.
struct MockStats: Decodable, Sendable, Equatable {
    let requests: Int
    let byPath: [String: Int]
    let clientDisconnects: Int
    /// TCP connections the mock accepted (since start or the last reset).
    let connections: Int

    enum CodingKeys: String, CodingKey {
        case requests
        case byPath = "by_path"
        case clientDisconnects = "client_disconnects"
        case connections
    }
}

/// `GET /_mock/last-request`: what the mock received last (header names lower-cased).
struct MockLastRequest: Decodable, Sendable, Equatable {
    let method: String
    let path: String
    let headers: [String: String]
    let bodyBytes: Int
    /// The body's first 64 KiB as text.
    let body: String

    enum CodingKeys: String, CodingKey {
        case method, path, headers, body
        case bodyBytes = "body_bytes"
    }
}

/// A running `reprise-mock-upstream` on a free port, with its control endpoints.
final class MockUpstream: Sendable {
    struct ControlError: Error, CustomStringConvertible {
        let endpoint: String
        let status: Int
        let body: String
        var description: String { "mock control \(endpoint) answered \(status): \(body)" }
    }

    let process: ManagedProcess
    let port: Int

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func url(_ path: String) -> String { baseURL + path }

    private init(process: ManagedProcess, port: Int) {
        self.process = process
        self.port = port
    }

    /// Starts the mock with `--port 0 --threads 2` followed by `arguments` (which can override them).
    static func start(arguments: [String] = []) async throws -> MockUpstream {
        let process = try ManagedProcess(
            executable: try TestBinaries.mockUpstream,
            arguments: ["--host", "127.0.0.1", "--port", "0", "--threads", "2"] + arguments
        )
        do {
            let port = try await process.waitForListeningPort()
            return MockUpstream(process: process, port: port)
        } catch {
            await process.terminate()
            throw error
        }
    }

    /// Stops the mock (SIGTERM, SIGKILL after the grace period); returns its exit code.
    @discardableResult
    func stop() async -> Int32 {
        await process.terminate()
    }

    func stats() async throws -> MockStats {
        let response = try await TestHTTP.send(.GET, url("/_mock/stats"))
        guard response.status == 200 else { throw ControlError(endpoint: "stats", status: response.status, body: response.text) }
        return try JSONDecoder().decode(MockStats.self, from: Data(response.text.utf8))
    }

    func reset() async throws {
        let response = try await TestHTTP.send(.POST, url("/_mock/reset"))
        guard response.status == 200 else { throw ControlError(endpoint: "reset", status: response.status, body: response.text) }
    }

    /// `nil` when nothing was received since start or the last reset.
    func lastRequest() async throws -> MockLastRequest? {
        let response = try await TestHTTP.send(.GET, url("/_mock/last-request"))
        if response.status == 404 { return nil }
        guard response.status == 200 else {
            throw ControlError(endpoint: "last-request", status: response.status, body: response.text)
        }
        return try JSONDecoder().decode(MockLastRequest.self, from: Data(response.text.utf8))
    }

    /// Polls `stats()` until `condition` holds (or `timeout` passes: then returns the last stats).
    func waitForStats(timeout: Duration = .seconds(30), until condition: (MockStats) -> Bool) async throws -> MockStats {
        let deadline = ContinuousClock.now + timeout
        while true {
            let current = try await stats()
            if condition(current) || ContinuousClock.now >= deadline { return current }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Runs `body` with a fresh mock upstream and stops it afterwards, also when `body` throws.
func withMockUpstream<Result>(
    arguments: [String] = [],
    _ body: (MockUpstream) async throws -> Result
) async throws -> Result {
    let mock = try await MockUpstream.start(arguments: arguments)
    do {
        let result = try await body(mock)
        await mock.stop()
        return result
    } catch {
        await mock.stop()
        throw error
    }
}
