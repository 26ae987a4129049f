import Testing
@testable import RepriseCore

/// Codec version 2: an entry carries the digest of its own key and is refused under any other;
/// stored headers that could split a replayed head are refused; answers that report an error
/// are recognized.
@Suite struct CacheEntryCodecKeyTests {
    static let key = CacheKey(namespace: "tenant-a", digest: String(repeating: "0f", count: 32))
    static let otherKey = CacheKey(namespace: "tenant-b", digest: String(repeating: "f0", count: 32))

    static func entry(headers: [CacheEntry.Header] = [.init(name: "content-type", value: "application/json")], keyDigest: String = key.digest) -> CacheEntry {
        CacheEntry(status: 200, headers: headers, createdAtMs: 1, ttlMs: 60_000, model: "m", usage: nil,
                   body: .json(Array(#"{"id":"x"}"#.utf8)), keyDigest: keyDigest)
    }

    @Test func theKeyDigestSurvivesTheRoundTripAndNamesOnlyItsKey() throws {
        let decoded = try CacheEntryCodec.decode(CacheEntryCodec.encode(Self.entry()))
        #expect(decoded.keyDigest == Self.key.digest)
        #expect(decoded.isStored(under: Self.key))
        #expect(!decoded.isStored(under: Self.otherKey))
        // Same digest text in another case or cut short is another key.
        #expect(!Self.entry(keyDigest: Self.key.digest.uppercased()).isStored(under: Self.key))
        #expect(!Self.entry(keyDigest: String(Self.key.digest.dropLast())).isStored(under: Self.key))
        // An entry that never got a digest belongs to no key.
        #expect(!Self.entry(keyDigest: "").isStored(under: CacheKey(namespace: "n", digest: "")))
    }

    /// A value written by the version-1 codec (no key digest) is a miss, not a guess.
    @Test func versionOneValuesAreRefused() throws {
        var encoded = CacheEntryCodec.encode(Self.entry())
        #expect(encoded[4] == 2)
        encoded[4] = 1
        #expect { try CacheEntryCodec.decode(encoded) } throws: { ($0 as? CacheEntryDecodingError)?.kind == .unsupportedVersion }
    }

    @Test func headersWithLineBreaksOrNULAreRefused() throws {
        for bad in ["application/json\r\nx-injected: 1", "a\nb", "a\rb", "a\u{0}b"] {
            for headers in [[CacheEntry.Header(name: "content-type", value: bad)], [CacheEntry.Header(name: bad, value: "v")]] {
                let entry = Self.entry(headers: headers)
                #expect(!entry.hasSafeHeaders)
                // Encoded anyway (as a writer of Redis might), it decodes as a miss.
                #expect { try CacheEntryCodec.decode(CacheEntryCodec.encode(entry)) } throws: {
                    ($0 as? CacheEntryDecodingError)?.kind == .invalidField
                }
            }
        }
        #expect(Self.entry(headers: [.init(name: "content-type", value: "text/event-stream; charset=utf-8\t")]).hasSafeHeaders)
    }

    @Test func errorDocumentsAreRecognized() {
        #expect(CacheEntry.isErrorDocument(json: Array(#"{"error":{"message":"quota","type":"x"}}"#.utf8)))
        #expect(CacheEntry.isErrorDocument(json: Array(#" {"id":"1", "error": "overloaded"}"#.utf8)))
        // A successful Responses API answer says `"error": null`.
        #expect(!CacheEntry.isErrorDocument(json: Array(#"{"id":"resp_1","object":"response","status":"completed","error": null}"#.utf8)))
        #expect(!CacheEntry.isErrorDocument(json: Array(#"{"id":"1","choices":[{"message":{"content":"error"}}],"x":{"error":1}}"#.utf8)))
        #expect(!CacheEntry.isErrorDocument(json: Array(#"["error"]"#.utf8)))
        #expect(!CacheEntry.isErrorDocument(json: Array("not json".utf8)))
    }
}
