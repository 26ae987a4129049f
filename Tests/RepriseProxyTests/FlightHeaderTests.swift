import NIOHTTP1
import Testing
@testable import RepriseProxy

/// Coalesced followers see what a stored answer would carry, never the leader's own headers.
@Suite struct FlightHeaderTests {
    @Test func followersGetOnlyTheHeadersAStoredAnswerKeeps() {
        let leader: HTTPHeaders = [
            "Content-Type": "application/json", "Content-Language": "en", "Set-Cookie": "session=leader",
            "x-request-id": "req_leader", "x-ratelimit-remaining-requests": "41", "date": "Fri, 04 Dec 2026 15:00:00 GMT",
            "openai-organization": "org-leader", "x-cache": "MISS", "x-reprise-attempts": "9",
        ]
        let shared = Flight.followerHeaders(from: RelayedResponseHead(HTTPResponseHead(version: .http1_1, status: .ok, headers: leader)), attempts: 2)
        #expect(shared.map(\.name) == ["Content-Type", "Content-Language", "x-reprise-attempts", "x-cache"])
        #expect(shared.first(name: "x-cache") == "COALESCED")
        #expect(shared.first(name: "x-reprise-attempts") == "2")
    }
}
