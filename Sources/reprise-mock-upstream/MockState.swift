import NIOConcurrencyHelpers
import NIOHTTP1

/// Counters, fail-times scenarios and the last request, shared by all event loops behind one
/// lock: a few nanoseconds per request, uncontended most of the time.
final class MockState: Sendable {
    struct RecordedRequest: Sendable {
        let method: String
        let uri: String
        let headers: HTTPHeaders
        let bodyBytes: Int
        /// The body's first `recordedBodyLimit` bytes as text (what a proxy rewrote is visible).
        let body: String
    }

    static let recordedBodyLimit = 64 * 1024

    private struct Counters {
        var requests = 0
        var byPath: [String: Int] = [:]
        var clientDisconnects = 0
        /// Connections accepted: a proxy that reuses its upstream connections opens few.
        var connections = 0
        var scenarioFailures: [String: Int] = [:]
        var lastRequest: RecordedRequest?
    }

    private let counters = NIOLockedValueBox(Counters())

    func record(_ request: RecordedRequest, path: String) {
        counters.withLockedValue {
            $0.requests += 1
            $0.byPath[path, default: 0] += 1
            $0.lastRequest = request
        }
    }

    func recordClientDisconnects(_ count: Int) {
        guard count > 0 else { return }
        counters.withLockedValue { $0.clientDisconnects += count }
    }

    func recordConnectionAccepted() {
        counters.withLockedValue { $0.connections += 1 }
    }

    /// Whether this request of `scenario` must still fail; counts the failure when it does.
    func shouldFail(scenario: String, failTimes: Int) -> Bool {
        counters.withLockedValue {
            let failed = $0.scenarioFailures[scenario, default: 0]
            guard failed < failTimes else { return false }
            $0.scenarioFailures[scenario] = failed + 1
            return true
        }
    }

    func reset() {
        counters.withLockedValue { $0 = Counters() }
    }

    func statsJSON() -> String {
        let (requests, byPath, disconnects, connections) = counters.withLockedValue {
            ($0.requests, $0.byPath, $0.clientDisconnects, $0.connections)
        }
        let paths = byPath.keys.sorted().map { "\(JSONText.quoted($0)):\(byPath[$0]!)" }
        return "{\"requests\":\(requests),\"by_path\":{\(paths.joined(separator: ","))},"
            + "\"client_disconnects\":\(disconnects),\"connections\":\(connections)}"
    }

    /// `nil` when no request was recorded since start or the last reset.
    func lastRequestJSON() -> String? {
        guard let request = counters.withLockedValue({ $0.lastRequest }) else { return nil }
        var headers: [String: String] = [:]
        for (name, value) in request.headers {
            let key = name.lowercased()
            headers[key] = headers[key].map { $0 + ", " + value } ?? value
        }
        let members = headers.keys.sorted().map { JSONText.quoted($0) + ":" + JSONText.quoted(headers[$0]!) }
        return "{\"method\":\(JSONText.quoted(request.method)),\"path\":\(JSONText.quoted(request.uri)),"
            + "\"headers\":{\(members.joined(separator: ","))},\"body_bytes\":\(request.bodyBytes),\"body\":\(JSONText.quoted(request.body))}"
    }
}
