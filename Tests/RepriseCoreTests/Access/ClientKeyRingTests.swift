import RepriseCrypto
import Testing
@testable import RepriseCore

@Suite("Issued keys")
struct ClientKeyRingTests {
    static func sha256Hex(_ text: String) -> String {
        let hasher = SHA256Hasher()
        hasher.update(text.utf8)
        return hasher.finalize().map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    let ring = ClientKeyRing([
        ClientKeyConfig(name: "team-a", keySHA256: sha256Hex("rk-alpha")),
        ClientKeyConfig(name: "team-b", keySHA256: sha256Hex("rk-beta"), models: ["deepseek-chat"]),
    ])

    @Test func aPresentedKeyIsFoundByItsHash() {
        #expect(ring.key(presented: "rk-alpha", hasher: SHA256Hasher())?.name == "team-a")
        #expect(ring.key(presented: "rk-beta", hasher: SHA256Hasher())?.name == "team-b")
    }

    @Test func unknownPrefixedAndEmptyKeysAreNotFound() {
        for presented in ["rk-alph", "rk-alphaX", "", "RK-ALPHA", Self.sha256Hex("rk-alpha")] {
            #expect(ring.key(presented: presented, hasher: SHA256Hasher()) == nil, "\(presented)")
        }
    }

    @Test func theKnownHashOfAFixedKey() {
        // printf %s abc | sha256sum
        #expect(Self.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let key = ClientKey(ClientKeyConfig(name: "k", keySHA256: "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD".lowercased()))
        #expect(key.digest.count == 32 && key.digest.first == 0xba && key.digest.last == 0xad)
    }

    @Test func constantTimeEqualsComparesWholeSequences() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        // A string against bytes read in place.
        let bytes: [UInt8] = Array("sk-abc".utf8)
        bytes.withUnsafeBufferPointer { value in
            #expect(ConstantTime.equals("sk-abc", value))
            #expect(!ConstantTime.equals("sk-abd", value))
            #expect(!ConstantTime.equals("sk-ab", value))
            #expect(!ConstantTime.equals("sk-abcd", value))
        }
        #expect(!ConstantTime.equals([1, 2], [1, 2, 0]))
        #expect(ConstantTime.equals([UInt8](), [UInt8]()))
        #expect(ConstantTime.equals("token".utf8, "token".utf8))
    }

    @Test func modelsAndRoutesRestrictOnlyWhenListed() {
        let open = ClientKey(ClientKeyConfig(name: "a", keySHA256: String(repeating: "0", count: 64)))
        #expect(open.allows(route: "any"))
        let narrow = ClientKey(ClientKeyConfig(name: "b", keySHA256: String(repeating: "0", count: 64), models: ["m1"], routes: ["default"]))
        #expect(narrow.allows(route: "default") && !narrow.allows(route: "premium"))
        func check(_ body: String, _ models: Set<String> = ["m1"]) -> ModelRestriction.Verdict {
            ModelRestriction.check(body: Array(body.utf8), allowed: models)
        }
        #expect(check(#"{"model":"m1","messages":[]}"#) == .allowed)
        #expect(check(#"{"model":"m2"}"#) == .refused(#""m2""#))
        #expect(check(#"{"model":"m2"}"#, []) == .allowed)
        #expect(check(#"{"messages":[]}"#) == .allowed)
        // What the upstream would read must be what was checked.
        #expect(check(#"{"model":"m1","model":"m2"}"#) == .refused(#""m2""#))
        #expect(check(#"{"mod\u0065l":"m2"}"#) == .refused(#"mod\u0065l"#))
        #expect(check(#"{"model":"m\u0031"}"#) == .refused(#""m\u0031""#))
        #expect(check(#"{"model":["m1"]}"#) == .refused(#"["m1"]"#))
    }

    @Test func presentedKeyReadsBearerThenAPIKey() {
        func read(_ headers: [(String, String)]) -> String? {
            let all = PresentedKey.read { visit in for (name, value) in headers { visit(name, value) } }.map(String.init)
            // Visiting only the lines `reads(headerNamed:)` names (what the proxy does) finds the same.
            let named = PresentedKey.read { visit in
                for (name, value) in headers where { var name = name; return name.withUTF8 { PresentedKey.reads(headerNamed: $0) } }() {
                    visit(name, value)
                }
            }.map(String.init)
            #expect(all == named, "\(headers)")
            // The in-place form of a lone `Authorization` line finds the same bearer key.
            if headers.count == 1, headers[0].0.lowercased() == "authorization" {
                var value = headers[0].1
                let inPlace = value.withUTF8 { PresentedKey.bearerKey(inAuthorizationValue: $0).map { String(decoding: $0, as: UTF8.self) } }
                #expect(inPlace == all, "\(headers)")
            }
            return all
        }
        #expect(read([("Content-Type", "application/json"), ("API-KEY", "rk-0"), ("x-api-key", "rk-x")]) == "rk-0")
        #expect(read([("Authorization", "Bearer rk-1")]) == "rk-1")
        #expect(read([("authorization", "bearer  rk-1 ")]) == "rk-1")
        #expect(read([("api-key", "rk-2")]) == "rk-2")
        #expect(read([("api-key", "rk-2"), ("Authorization", "Bearer rk-1")]) == "rk-1")
        #expect(read([("Authorization", "Basic abc")]) == nil)
        #expect(read([("Authorization", "Bearer ")]) == nil)
        #expect(read([("x-api-key", "rk-3")]) == nil)
        #expect(read([]) == nil)
        // Tabs count as spaces; a scheme without its space, a bare scheme or spaces alone are no key.
        #expect(read([("Authorization", "\tBEARER \t rk-4\t")]) == "rk-4")
        #expect(read([("Authorization", "Bearerrk-5")]) == nil)
        #expect(read([("Authorization", "  Bearer")]) == nil)
        #expect(read([("api-key", " \t ")]) == nil)
        // A key in a non-ASCII value is sliced on byte offsets, not grapheme clusters.
        #expect(read([("Authorization", "Bearer ключ-é\u{301}")]) == "ключ-é\u{301}")
    }

    @Test func routingCredentialTakesBearerOrBareValue() {
        func read(_ headers: [(String, String)]) -> String? {
            ForcedVariantCredentials.credential { visit in for (name, value) in headers { visit(name, value) } }.map(String.init)
        }
        #expect(read([("Authorization", " Bearer  sk-1 ")]) == "sk-1")
        #expect(read([("Authorization", "Basic abc ")]) == "Basic abc")
        #expect(read([("x-api-key", "\tsk-2")]) == "sk-2")
        #expect(read([("Authorization", "   ")]) == "")
    }
}
