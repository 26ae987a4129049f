import NIOHTTP1
import Testing
@testable import RepriseProxy

/// The request's headers read in the received bytes: lookups ignore case and keep arrival order,
/// filters see the names' bytes, and the list built for the upstream is the lines as sent.
@Suite struct RequestHeadersTests {
    static var headers: RequestHeaders { ParsedHeads.headers([
        "Host": "a", "Content-Type": "application/json", "X-Api-Key": "sk-2", "Cache-Control": "no-store",
        "authorization": "Bearer sk-1", "cache-control": "max-age=5",
    ]) }

    @Test func lookupsIgnoreCaseAndKeepOrder() {
        #expect(Self.headers.first(name: "CONTENT-TYPE") == "application/json")
        #expect(Self.headers.first(name: "x-missing") == nil)
        #expect(Self.headers.contains(name: "x-api-key") && !Self.headers.contains(name: "x-api"))
        #expect(Self.headers["cache-control"] == ["no-store", "max-age=5"])
        #expect(Self.headers.map(\.name) == ["Host", "Content-Type", "X-Api-Key", "Cache-Control", "authorization", "cache-control"])
        var lines: [String] = []
        Self.headers.forEachLine { name, value in lines.append(String(decoding: name, as: UTF8.self) + ": " + String(decoding: value, as: UTF8.self)) }
        #expect(lines == Self.headers.map { "\($0.name): \($0.value)" }, "the bytes as received")
    }

    @Test func filtersSeeTheNamesBytesAndOnlyMatchingLinesAreMade() {
        var seen: [String] = []
        Self.headers.forEach(whereName: { $0.count == 13 }) { name, value in seen.append("\(name)=\(value)") }
        #expect(seen == ["Cache-Control=no-store", "authorization=Bearer sk-1", "cache-control=max-age=5"])
        #expect(Self.headers.first(whereName: { $0.count == 9 })?.value == "sk-2")
        #expect(Self.headers.first(whereName: { _ in false }) == nil)
    }

    @Test func theCredentialHeaderIsTheFirstCredentialLine() {
        #expect(RoutingRuntime.credentialHeader(in: Self.headers).map { "\($0.name)=\($0.value)" } == "X-Api-Key=sk-2")
        #expect(RoutingRuntime.credentialHeader(in: ParsedHeads.headers(["x-goog-api-key": "g", "Authorization": "Bearer k"]))?.value == "Bearer k")
        #expect(RoutingRuntime.credentialHeader(in: ParsedHeads.headers(["x-goog-api-key": "g"])) == nil)
    }
}
