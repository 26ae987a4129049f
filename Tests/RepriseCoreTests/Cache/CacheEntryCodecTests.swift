import PropertyBased
import Testing
@testable import RepriseCore

@Suite struct CacheEntryCodecTests {
    static func randomEntry(_ rng: inout SplitMix) -> CacheEntry {
        func bytes(_ max: Int) -> [UInt8] { (0 ..< Int.random(in: 0 ... max, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) } }
        let headers = (0 ..< Int.random(in: 0 ... 4, using: &rng)).map { _ in
            // CR, LF and NUL are refused in stored headers (`CacheEntryCodecKeyTests`).
            CacheEntry.Header(name: JSONTestModel.randomString(&rng).filter { $0 != "\n" },
                              value: JSONTestModel.randomString(&rng, maxLength: 20).filter { $0 != "\n" })
        }
        let body: CacheEntry.Body = Bool.random(using: &rng)
            ? .json(bytes(200))
            : .events((0 ..< Int.random(in: 0 ... 6, using: &rng)).map { _ in bytes(40) })
        return CacheEntry(
            status: Int.random(in: 100 ... 599, using: &rng), headers: headers,
            createdAtMs: Int64.random(in: 0 ... 4_000_000_000_000, using: &rng), ttlMs: Int64.random(in: -5 ... 1 << 40, using: &rng),
            model: Bool.random(using: &rng) ? JSONTestModel.randomString(&rng) : nil,
            usage: Bool.random(using: &rng) ? .init(promptTokens: Int.random(in: 0 ... 1 << 20, using: &rng), completionTokens: -1, totalTokens: Int.random(in: 0 ... 9, using: &rng)) : nil,
            body: body, keyDigest: Bool.random(using: &rng) ? String(repeating: "a1", count: 32) : "")
    }

    @Test func roundTripsRandomEntries() async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var rng = SplitMix(seed: seed)
            let entry = Self.randomEntry(&rng)
            let decoded = try CacheEntryCodec.decode(CacheEntryCodec.encode(entry))
            #expect(decoded == entry)
        }
    }

    @Test func everySingleByteCorruptionAndTruncationIsRejected() async {
        await propertyCheck(count: 40, input: Gen.uint64()) { seed in
            var rng = SplitMix(seed: seed)
            let encoded = CacheEntryCodec.encode(Self.randomEntry(&rng))
            for position in encoded.indices {
                var corrupted = encoded
                corrupted[position] ^= UInt8.random(in: 1 ... 255, using: &rng)
                #expect(throws: CacheEntryDecodingError.self) { try CacheEntryCodec.decode(corrupted) }
            }
            for length in 0 ..< encoded.count {
                #expect(throws: CacheEntryDecodingError.self) { try CacheEntryCodec.decode(Array(encoded.prefix(length))) }
            }
            #expect(throws: CacheEntryDecodingError.self) { try CacheEntryCodec.decode(encoded + [0]) }
        }
    }

    @Test func typedErrors() throws {
        let entry = CacheEntry(status: 200, headers: [.init(name: "content-type", value: "application/json")], createdAtMs: 1, ttlMs: 2,
                               model: "m", usage: nil, body: .json(Array("{}".utf8)))
        var encoded = CacheEntryCodec.encode(entry)
        #expect(Array(encoded.prefix(5)) == Array("RPRC".utf8) + [2])
        encoded[4] = 3
        #expect { try CacheEntryCodec.decode(encoded) } throws: { ($0 as? CacheEntryDecodingError)?.kind == .unsupportedVersion }
        #expect { try CacheEntryCodec.decode(Array("hello world, not an entry".utf8)) } throws: { ($0 as? CacheEntryDecodingError)?.kind == .badMagic }
        let big = CacheEntryCodec.encode(CacheEntry(status: 200, headers: [], createdAtMs: 0, ttlMs: 1, model: nil, usage: nil, body: .json([UInt8](repeating: 7, count: 2000))))
        #expect { try CacheEntryCodec.decode(big, limits: .init(maxPayloadBytes: 1000)) } throws: { ($0 as? CacheEntryDecodingError)?.kind == .fieldTooLarge }
    }

    @Test func keptHeadersAreAnAllowlist() {
        let kept = CacheEntry.keptHeaders(from: [
            (name: "Content-Type", value: "text/event-stream"), (name: "Date", value: "x"), (name: "x-request-id", value: "r"),
            (name: "openai-processing-ms", value: "12"), (name: "Set-Cookie", value: "a=b"), (name: "Content-Length", value: "9"),
            (name: "Transfer-Encoding", value: "chunked"), (name: "Connection", value: "keep-alive"), (name: "x-ratelimit-remaining-tokens", value: "1"),
        ])
        #expect(kept == [.init(name: "content-type", value: "text/event-stream")])
    }
}

@Suite struct CachePolicyTests {
    @Test func parsesCacheControl() {
        #expect(CacheControlDirectives(parsing: "no-cache") == .init(noCache: true))
        #expect(CacheControlDirectives(parsing: " No-Store , MAX-AGE = 60 ") == .init(noStore: true, maxAge: 60))
        #expect(CacheControlDirectives(parsing: #"max-age="30", private, x="a,b""#) == .init(maxAge: 30))
        #expect(CacheControlDirectives(parsing: ["max-age=60", "max-age=10"]) == .init(maxAge: 10))
        #expect(CacheControlDirectives(parsing: "max-age=-1, max-age=abc, max-age=") == .init())
        #expect(CacheControlDirectives(parsing: "max-age=99999999999999999999999").maxAge == Int(Int32.max))
        #expect(CacheControlDirectives(parsing: nil as String?) == .init())
    }

    @Test func decisions() {
        let policy = CachePolicy(defaultTTLSeconds: 3600, maxTTLSeconds: 7200, nonDeterministic: .cache)
        var facts = RequestFacts()
        let plain = CacheDecision.decide(policy: policy, cacheControl: .init(), ttlHeader: nil, facts: facts, generation: true)
        #expect(plain.lookup && plain.store && plain.ttlSeconds == 3600 && plain.reasons.isEmpty)
        let noCache = CacheDecision.decide(policy: policy, cacheControl: .init(noCache: true), ttlHeader: "60", facts: facts, generation: true)
        #expect(!noCache.lookup && noCache.store && noCache.ttlSeconds == 60)
        let noStore = CacheDecision.decide(policy: policy, cacheControl: .init(noStore: true, maxAge: 5), ttlHeader: "99999", facts: facts, generation: true)
        #expect(noStore.lookup && !noStore.store && noStore.ttlSeconds == 7200)
        #expect(noStore.accepts(ageSeconds: 5) && !noStore.accepts(ageSeconds: 6))
        #expect(CacheDecision.decide(policy: policy, cacheControl: .init(), ttlHeader: "0", facts: facts, generation: true).store == false)
        #expect(CacheDecision.decide(policy: policy, cacheControl: .init(), ttlHeader: "x", facts: facts, generation: true).ttlSeconds == 3600)

        var bypassPolicy = policy
        bypassPolicy.nonDeterministic = .bypass
        // Absent temperature counts as the upstream default 1: non-deterministic.
        #expect(CacheDecision.decide(policy: bypassPolicy, cacheControl: .init(), ttlHeader: nil, facts: facts, generation: true).isBypass)
        #expect(!CacheDecision.decide(policy: bypassPolicy, cacheControl: .init(), ttlHeader: nil, facts: facts, generation: false).isBypass)
        facts.temperature = 0
        #expect(!CacheDecision.decide(policy: bypassPolicy, cacheControl: .init(), ttlHeader: nil, facts: facts, generation: true).isBypass)
        facts.temperature = 0.2
        #expect(CacheDecision.decide(policy: bypassPolicy, cacheControl: .init(), ttlHeader: nil, facts: facts, generation: true).reasons == [.nonDeterministic])
    }
}

@Suite struct CRC32Tests {
    @Test func checkValueAndAgreementWithTheBytewiseLoop() {
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
        #expect([UInt8]().withUnsafeBytes { CRC32.checksum($0) } == 0)
        var rng = SystemRandomNumberGenerator()
        let bytes = (0 ..< 4096).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
        bytes.withUnsafeBytes { all in
            // Every length around the 8-byte step, at every alignment.
            for start in 0 ..< 8 {
                for length in 0 ..< 80 {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start ..< start + length])
                    #expect(CRC32.checksum(slice) == CRC32.bytewiseChecksum(slice), "start \(start), length \(length)")
                }
            }
            #expect(CRC32.checksum(all) == CRC32.bytewiseChecksum(all))
        }
    }
}
