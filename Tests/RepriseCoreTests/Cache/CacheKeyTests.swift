import PropertyBased
import RepriseCrypto
import Testing
@testable import RepriseCore

@Suite struct CacheKeyTests {
    static let scope = CacheScope(namespace: "ns1", route: "chat", variant: "primary", method: "POST", target: "/v1/chat/completions")

    func key(_ text: String, scope: CacheScope = Self.scope, builder: CacheKeyBuilder = CacheKeyBuilder()) throws -> CacheKey {
        try builder.key(scope: scope, body: Array(text.utf8)).key
    }

    @Test func equivalentBodiesShareAKey() async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var rng = SplitMix(seed: seed)
            let body = JSONTestModel.randomBody(&rng)
            let ignoredNoise: [(String, JValue)] = [("stream", .bool(Bool.random(using: &rng))), ("user", .string(JSONTestModel.randomString(&rng))),
                                                     ("stream_options", .object([("include_usage", .bool(true))]))]
            let first = JSONTestModel.render(body, &rng)
            let second = JSONTestModel.render(body, &rng, extraTopLevel: Array(ignoredNoise.prefix(Int.random(in: 0 ... 3, using: &rng))))
            let builder = CacheKeyBuilder()
            let firstKey = try key(first, builder: builder), secondKey = try key(second, builder: builder)
            #expect(firstKey == secondKey, "\(first)\n\(second)")
        }
    }

    /// Changes one leaf (not an ignored field) somewhere in the body.
    static func mutate(_ value: JValue, _ rng: inout SplitMix) -> JValue? {
        switch value {
        case .object(let members):
            guard !members.isEmpty else { return .object([("x", .null)]) }
            var copy = members
            let pick = Int.random(in: 0 ..< copy.count, using: &rng)
            if Int.random(in: 0 ..< 5, using: &rng) == 0 {
                copy[pick].0 += "k"   // renamed member
                if Set(copy.map(\.0)).count != copy.count { return nil }
                return .object(copy)
            }
            guard let changed = mutate(copy[pick].1, &rng) else { return nil }
            copy[pick].1 = changed
            return .object(copy)
        case .array(let elements):
            guard !elements.isEmpty else { return .array([.null]) }
            var copy = elements
            let pick = Int.random(in: 0 ..< copy.count, using: &rng)
            guard let changed = mutate(copy[pick], &rng) else { return nil }
            copy[pick] = changed
            return .array(copy)
        case .string(let string): return .string(string + "x")
        case .number(let mantissa, let exponent): return .number(mantissa: mantissa + 1, exponent: exponent)
        case .bool(let flag): return .bool(!flag)
        case .null: return .bool(false)
        }
    }

    @Test func anySemanticChangeChangesTheKey() async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var rng = SplitMix(seed: seed)
            let body = JSONTestModel.randomBody(&rng)
            guard let changed = Self.mutate(body, &rng) else { return }
            let builder = CacheKeyBuilder()
            let before = JSONTestModel.render(body, &rng), after = JSONTestModel.render(changed, &rng)
            let beforeKey = try key(before, builder: builder), afterKey = try key(after, builder: builder)
            #expect(beforeKey != afterKey, "\(before)\n\(after)")
        }
    }

    @Test func differentNamespacesNeverShareAKey() async {
        await propertyCheck(count: 200, input: Gen.uint64(), Gen.letterOrNumber.string(of: 1 ... 12), Gen.letterOrNumber.string(of: 1 ... 12)) { seed, first, second in
            guard first != second else { return }
            var rng = SplitMix(seed: seed)
            let text = JSONTestModel.render(JSONTestModel.randomBody(&rng), &rng)
            var scopeA = Self.scope, scopeB = Self.scope
            scopeA.namespace = first
            scopeB.namespace = second
            let a = try key(text, scope: scopeA), b = try key(text, scope: scopeB)
            #expect(a.digest != b.digest)
            #expect(a.redisKey != b.redisKey)
        }
    }

    @Test func scopeFieldsAndFraming() throws {
        let body = #"{"model":"m","messages":[]}"#
        let base = try key(body)
        #expect(base.redisKey == "reprise:v1:ns1:\(base.digest)")
        #expect(base.digest.count == 64)
        for target in ["/chat/completions", "/v1/chat/completions/", "//v1//chat/completions"] {
            var scope = Self.scope
            scope.target = target
            #expect(try key(body, scope: scope) == base)
        }
        var lower = Self.scope
        lower.method = "post"
        #expect(try key(body, scope: lower) == base)
        var changed: [CacheScope] = []
        for change in 0 ..< 5 {
            var scope = Self.scope
            switch change {
            case 0: scope.route = "other"
            case 1: scope.variant = "canary"
            case 2: scope.method = "PUT"
            case 3: scope.target = "/v1/completions"
            default: scope.target = "/v1/chat/completions?api-version=2"
            }
            changed.append(scope)
        }
        for scope in changed { #expect(try key(body, scope: scope) != base) }
        // Length-prefixed framing: moving bytes between fields changes the key.
        let a = CacheScope(namespace: "ab", route: "c", variant: "", method: "POST", target: "/x")
        let b = CacheScope(namespace: "a", route: "bc", variant: "", method: "POST", target: "/x")
        #expect(try key(body, scope: a) != key(body, scope: b))
    }

    @Test func secretSwitchesToHMAC() throws {
        let body = #"{"model":"m"}"#
        let plain = try key(body)
        let keyed = try key(body, builder: CacheKeyBuilder(secret: Array("s3cret".utf8)))
        let otherSecret = try key(body, builder: CacheKeyBuilder(secret: Array("other".utf8)))
        #expect(plain != keyed)
        #expect(keyed != otherSecret)
        #expect(try key(body, builder: CacheKeyBuilder(secret: Array("s3cret".utf8))) == keyed)
    }

    @Test func keysAreEqualExactlyWhenNamespaceAndDigestAre() {
        let key = CacheKey(namespace: "ab", digest: "cd")
        #expect(key == CacheKey(namespace: "ab", digest: "cd"))
        #expect(key.hashValue == CacheKey(namespace: "ab", digest: "cd").hashValue)
        // The same characters split differently are different keys.
        #expect(key != CacheKey(namespace: "a", digest: "bcd"))
        #expect(key != CacheKey(namespace: "abc", digest: "d"))
        #expect(key != CacheKey(namespace: "ab", digest: "ce"))
        #expect(Set([key, CacheKey(namespace: "ab", digest: "cd"), CacheKey(namespace: "x", digest: "cd")]).count == 2)
    }

    @Test func redisKeysStartWithTheirPurgePrefix() {
        let key = CacheKey(namespace: "tenant-a", digest: String(repeating: "0f", count: 32))
        #expect(key.redisKey == "reprise:v1:tenant-a:" + String(repeating: "0f", count: 32))
        #expect(key.redisKey.hasPrefix(CacheKey.redisKeyPrefix(namespace: "tenant-a")))
        #expect(key.redisKey.hasPrefix(CacheKey.redisKeyPrefix(namespace: nil)))
        #expect(!key.redisKey.hasPrefix(CacheKey.redisKeyPrefix(namespace: "tenant")))
    }

    @Test func notCacheableBodiesHaveNoKey() {
        #expect(throws: NotCacheableReason.topLevelNotObject) { try key("[]") }
        #expect(throws: NotCacheableReason.self) { try key("model=m") }
    }
}

/// The key memo never changes a key: a memoizing builder agrees with one that computes every
/// key, whatever mix of repeats, near-repeats and slot collisions it sees.
@Suite struct CacheKeyMemoTests {
    static let scopes: [CacheScope] = [
        CacheScope(namespace: "ns1", route: "chat", variant: "primary", method: "POST", target: "/v1/chat/completions"),
        CacheScope(namespace: "ns2", route: "chat", variant: "primary", method: "POST", target: "/v1/chat/completions"),
        CacheScope(namespace: "ns1", route: "chat", variant: "canary", method: "POST", target: "/v1/chat/completions"),
        CacheScope(namespace: "ns1", route: "chat", variant: "primary", method: "POST", target: "/v1/completions"),
        CacheScope(namespace: "ns1", route: "chat", variant: "primary", method: "POST", target: "/v1/chat/completions?api-version=1"),
        // Equal as Swift Strings (canonical equivalence), different as bytes.
        CacheScope(namespace: "caf\u{E9}", route: "chat", variant: "primary", method: "POST", target: "/v1/chat/completions"),
        CacheScope(namespace: "cafe\u{301}", route: "chat", variant: "primary", method: "POST", target: "/v1/chat/completions"),
    ]

    static func outcome(_ builder: CacheKeyBuilder, _ scope: CacheScope, _ body: [UInt8]) -> Result<CacheKeyResult, NotCacheableReason> {
        do throws(NotCacheableReason) {
            return .success(try builder.key(scope: scope, body: body))
        } catch {
            return .failure(error)
        }
    }

    @Test func memoizedKeysEqualComputedKeys() async {
        await propertyCheck(count: 200, input: Gen.uint64()) { seed in
            var rng = SplitMix(seed: seed)
            // Two slots and a small body bound: collisions, replacements and unremembered
            // bodies all happen within one sequence.
            let memoizing = CacheKeyBuilder(memoSlots: 2, memoMaxBodyBytes: 120)
            let computing = CacheKeyBuilder()
            var bodies: [[UInt8]] = []
            for _ in 0 ..< 12 {
                let pick = Int.random(in: 0 ..< 4, using: &rng)
                let body: [UInt8]
                if pick == 0 || bodies.isEmpty {
                    body = Array(JSONTestModel.render(JSONTestModel.randomBody(&rng), &rng).utf8)
                } else if pick == 1 {
                    // Same length, one byte changed: must not be taken for the remembered body.
                    var near = bodies.randomElement(using: &rng)!
                    let at = Int.random(in: 0 ..< near.count, using: &rng)
                    near[at] = near[at] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
                    body = near
                } else {
                    body = bodies.randomElement(using: &rng)!
                }
                bodies.append(body)
                let scope = Self.scopes.randomElement(using: &rng)!
                let remembered = Self.outcome(memoizing, scope, body)
                let computed = Self.outcome(computing, scope, body)
                #expect(remembered == computed, "\(String(decoding: body, as: UTF8.self))")
            }
        }
    }

    @Test func repeatsAreServedFromTheMemoAndScopesStayApart() throws {
        let builder = CacheKeyBuilder(memoSlots: 8)
        let body = Array(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#.utf8)
        let first = try builder.key(scope: Self.scopes[0], body: body)
        // A different body in another slot (slots depend on the per-process hash seed)
        // computes, and so replaces the canonical output...
        let other = try #require((0 ..< 100).lazy.map { Array(#"{"model":"other\#($0)"}"#.utf8) }
            .first { builder.memoSlotIndex(of: $0) != builder.memoSlotIndex(of: body) })
        _ = try builder.key(scope: Self.scopes[0], body: other)
        // ...and the repeat comes from the memo: same key, canonical output untouched.
        let again = try builder.key(scope: Self.scopes[0], body: body)
        #expect(again == first)
        #expect(builder.lastCanonicalBody == other)
        for scope in Self.scopes.dropFirst() {
            #expect(try builder.key(scope: scope, body: body).key != first.key, "\(scope)")
        }
        // Canonically equivalent, byte-different namespaces ("é" precomposed and decomposed)
        // have different keys, memo or not.
        let precomposed = CacheScope(namespace: "caf\u{E9}", route: "chat", variant: "primary", method: "POST", target: "/v1/chat/completions")
        let decomposed = CacheScope(namespace: "cafe\u{301}", route: "chat", variant: "primary", method: "POST", target: "/v1/chat/completions")
        #expect(precomposed.namespace == decomposed.namespace)  // Swift's String equality
        let precomposedKey = try builder.key(scope: precomposed, body: body).key
        #expect(try builder.key(scope: decomposed, body: body).key != precomposedKey)
        #expect(try builder.key(scope: decomposed, body: body).key == CacheKeyBuilder().key(scope: decomposed, body: body).key)
        // Bodies that are not cacheable are never remembered: the error comes every time.
        let broken = Array(#"{"model":"#.utf8)
        for _ in 0 ..< 2 {
            #expect(throws: NotCacheableReason.self) { try builder.key(scope: Self.scopes[0], body: broken) }
        }
    }
}

@Suite struct UTF8EqualityTests {
    @Test func comparesBytesNotCanonicalEquivalence() {
        let precomposed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(precomposed == decomposed)  // Swift's String ==
        #expect(!precomposed.hasSameUTF8(as: decomposed))
        #expect(precomposed.hasSameUTF8(as: "café"))
        let long = String(repeating: "tenant-namespace/", count: 8)  // not a small string
        #expect(long.hasSameUTF8(as: String(repeating: "tenant-namespace/", count: 8)))
        #expect(!long.hasSameUTF8(as: long.dropLast() + "?"))
        #expect(!long.hasSameUTF8(as: long.dropLast()))
        #expect("".hasSameUTF8(as: ""))
        #expect(!"".hasSameUTF8(as: "a"))
        let target = "/v1/chat/completions?api-version=2024-06-01"
        let query = target[target.index(after: target.firstIndex(of: "?")!)...]
        #expect(query.hasSameUTF8(as: "api-version=2024-06-01"))
        #expect(!query.hasSameUTF8(as: "api-version=2024-06-02"))
    }
}

@Suite struct NamespaceAndPathTests {
    @Test func parsesModes() throws {
        #expect(try NamespaceMode(parsing: "credential") == .credential)
        #expect(try NamespaceMode(parsing: " Global ") == .global)
        #expect(try NamespaceMode(parsing: "header:X-Tenant") == .header("x-tenant"))
        for bad in ["", "header:", "header:a b", "tenant", "header"] {
            #expect(throws: NamespaceMode.ParseError.self) { try NamespaceMode(parsing: bad) }
        }
    }

    @Test func credentialNamespaces() {
        let hasher = SHA256Hasher()
        let a = NamespaceMode.credential.namespace(hasher: hasher, headers: [(name: "Authorization", value: "Bearer sk-aaa")])
        let aAgain = NamespaceMode.credential.namespace(hasher: hasher, headers: [(name: "authorization", value: "Bearer sk-aaa")])
        let b = NamespaceMode.credential.namespace(hasher: hasher, headers: [(name: "Authorization", value: "Bearer sk-bbb")])
        let azure = NamespaceMode.credential.namespace(hasher: hasher, headers: [(name: "api-key", value: "sk-aaa")])
        #expect(a == aAgain)
        #expect(a != b)
        #expect(a.count == 32)
        #expect(azure == a) // the same credential, whichever header carries it
        #expect(NamespaceMode.credential.namespace(hasher: hasher, headers: []) == "anonymous")
        #expect(NamespaceMode.credential.namespace(hasher: hasher, headers: [(name: "Authorization", value: "Basic abc")]) != "anonymous")
        #expect(NamespaceMode.global.namespace(hasher: hasher, headers: [(name: "Authorization", value: "Bearer x")]) == "global")
    }

    @Test func builderMemoGivesTheSameNamespacesAsHashing() {
        let builder = CacheKeyBuilder()
        let hasher = SHA256Hasher()
        // More credentials than the memo holds, each asked twice: every answer equals the hash.
        for round in 0..<2 {
            for index in 0..<(CacheKeyBuilder.credentialMemoLimit + 10) {
                let headers = [(name: "authorization", value: "Bearer sk-\(index)")]
                let memoized = builder.namespace(mode: .credential) { visit in for header in headers { visit(header.name, header.value) } }
                let hashed = NamespaceMode.credential.namespace(hasher: hasher, headers: headers)
                #expect(memoized == hashed, "round \(round), credential \(index)")
            }
        }
        // Repeats of one Authorization value (the last-value shortcut), and Authorization values
        // beside other credential headers, which must not be remembered as the lone value's.
        let sequence: [[(name: String, value: String)]] = [
            [("authorization", "Bearer a")], [("authorization", "Bearer a")],
            [("authorization", "Basic z"), ("api-key", "k1")], [("authorization", "Basic z"), ("api-key", "k2")],
            // The shortcut's value again, now with a second credential: another namespace.
            [("authorization", "Bearer a")], [("authorization", "Bearer a"), ("x-api-key", "k1")],
            [("authorization", "Bearer a"), ("authorization", "Bearer a")],
            [("authorization", "Basic z")], [("authorization", "Bearer a")], [("api-key", "k1")],
            [("authorization", "Bearer b")], [("authorization", "Bearer a")],
            // Canonically equivalent, byte-different credentials ("é" precomposed, then
            // decomposed, in a row and apart): each keeps the namespace of its own bytes.
            [("authorization", "Bearer caf\u{E9}")], [("authorization", "Bearer cafe\u{301}")],
            [("authorization", "Bearer a")], [("authorization", "Bearer caf\u{E9}")], [("authorization", "Bearer cafe\u{301}")],
        ]
        for (step, headers) in sequence.enumerated() {
            let memoized = builder.namespace(mode: .credential) { visit in for header in headers { visit(header.name, header.value) } }
            #expect(memoized == NamespaceMode.credential.namespace(hasher: hasher, headers: headers), "step \(step)")
        }
        #expect(builder.namespace(mode: .credential) { _ in } == NamespaceMode.anonymous)
        #expect(builder.namespace(mode: .global) { visit in visit("authorization", "Bearer x") } == NamespaceMode.globalNamespace)
    }

    @Test func headerNamespacesAreSanitized() {
        let hasher = SHA256Hasher()
        let mode = NamespaceMode.header("x-tenant")
        #expect(mode.namespace(hasher: hasher, headers: [(name: "X-Tenant", value: "team-a")]) == "team-a")
        #expect(mode.namespace(hasher: hasher, headers: []) == "anonymous")
        let odd = mode.namespace(hasher: hasher, headers: [(name: "X-Tenant", value: "a:*")])
        #expect(odd.hasPrefix("h-"))
        #expect(!odd.contains(":"))
        #expect(mode.namespace(hasher: hasher, headers: [(name: "X-Tenant", value: "anonymous")]) != "anonymous")
    }

    @Test func pathsNormalizeAndMatch() {
        #expect(CachePath.normalize("/v1/chat/completions") == "/chat/completions")
        #expect(CachePath.normalize("/chat/completions/?a=1") == "/chat/completions")
        #expect(CachePath.normalize("/") == "/")
        #expect(CachePath.queryString(of: "/x?a=1&b=2#f") == "a=1&b=2")
        #expect(CachePath.queryString(of: "/x") == "")
        #expect(CachePath.queryString(of: "/x#f") == "")
        #expect(CachePath.queryString(of: "/x?") == "")
        #expect(CachePath.queryString(of: "") == "")
        #expect(CachePath.queryString(of: "/x?é=1") == "é=1")
        // A known path's length with other bytes is not that literal.
        #expect(CachePath.normalize("/v1/chat/completionz") == "/chat/completionz")
        #expect(CachePath.normalize("/v1/embeddingz") == "/embeddingz")
        let paths = CacheablePaths()
        #expect(paths.matches("/v1/chat/completions"))
        #expect(paths.matches("/chat/completions"))
        #expect(paths.matches("/v1/embeddings/"))
        #expect(paths.matches("/completions?x=1"))
        #expect(!paths.matches("/v1/models"))
        #expect(!paths.matches("/v1/chat/completions/extra"))
        #expect(CacheablePaths(["/custom"]).matches("/v1/custom"))
        // Same length as a cacheable path, different bytes.
        #expect(!paths.matches("/v1/chat/completionz"))
        #expect(!CacheablePaths([]).matches("/v1/chat/completions"))
    }

    /// Targets on the one-pass path (already normal) and on the split-and-join path (`//`,
    /// trailing `/`) give the same normal forms.
    @Test(arguments: [
        ("/v1/chat/completions", "/chat/completions"),
        ("/v1/chat/completions?api-version=2#x", "/chat/completions"),
        ("/chat/completions", "/chat/completions"),
        ("//v1//chat/completions", "/chat/completions"),
        ("/v1/chat/completions/", "/chat/completions"),
        ("/v1", "/"),
        ("/v1/", "/"),
        ("/v1?x=1", "/"),
        ("/", "/"),
        ("/?x=1", "/"),
        ("", "/"),
        ("?x=1", "/"),
        ("/v1x/chat", "/v1x/chat"),
        ("/v1/v1/chat", "/v1/chat"),
        ("/chat//completions", "/chat/completions"),
        ("/embeddings#frag", "/embeddings"),
    ])
    func pathNormalFormsAgreeOnBothPaths(target: String, normal: String) {
        #expect(CachePath.normalize(target) == normal)
        #expect(CachePath.normalize(Substring(target)) == normal)
        let scope = CacheScope(namespace: "n", route: "r", variant: "v", method: "POST", target: target)
        #expect(scope.normalizedPath == normal)
        #expect(scope.query == CachePath.queryString(of: target))
    }
}
