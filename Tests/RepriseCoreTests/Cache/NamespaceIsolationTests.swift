import RepriseCrypto
import Testing
@testable import RepriseCore

/// Tenant isolation: every credential form the upstream could read names its own tenant, the same
/// credential sent the same way names the same one, and the two forms namespaced before keep
/// their namespaces (stored answers stay valid across the upgrade).
@Suite struct NamespaceIsolationTests {
    typealias Headers = [(name: String, value: String)]

    private func namespace(_ headers: Headers, mode: NamespaceMode = .credential) -> String {
        mode.namespace(hasher: SHA256Hasher(), headers: headers)
    }

    /// One secret, sent in every form a client might use (and a few it might get wrong).
    static let forms: [(label: String, headers: Headers)] = [
        ("Bearer", [("Authorization", "Bearer sk-1")]),
        ("Basic", [("Authorization", "Basic sk-1")]),
        ("bare", [("Authorization", "sk-1")]),
        ("Bearer<TAB>", [("Authorization", "Bearer\tsk-1")]),
        ("Bearer, two spaces", [("Authorization", "Bearer  sk-1")]),
        ("bearer, lower case", [("Authorization", "bearer sk-1")]),
        ("Bearer, trailing space", [("Authorization", "Bearer sk-1 ")]),
        ("x-api-key", [("x-api-key", "sk-1")]),
        ("x-goog-api-key", [("x-goog-api-key", "sk-1")]),
        ("api-key with a space", [("api-key", " sk-1")]),
        ("two Authorization", [("Authorization", "Bearer sk-1"), ("Authorization", "Bearer sk-2")]),
        ("two Authorization, other order", [("Authorization", "Bearer sk-2"), ("Authorization", "Bearer sk-1")]),
        ("Bearer and x-api-key", [("Authorization", "Bearer sk-1"), ("x-api-key", "sk-2")]),
        ("Bearer and x-api-key swapped", [("Authorization", "Bearer sk-2"), ("x-api-key", "sk-1")]),
        ("Basic and api-key", [("Authorization", "Basic z"), ("api-key", "sk-1")]),
        // Framing: the same bytes split differently between values must not collide.
        ("split a", [("x-api-key", "ab"), ("x-api-key", "c")]),
        ("split b", [("x-api-key", "a"), ("x-api-key", "bc")]),
        ("joined", [("x-api-key", "abc")]),
    ]

    @Test func everyCredentialFormIsItsOwnTenant() {
        var seen: [String: String] = [:]
        for form in Self.forms {
            let namespace = namespace(form.headers)
            #expect(!NamespaceMode.isAnonymous(namespace), "\(form.label)")
            #expect(namespace.count == NamespaceMode.credentialHashHexCount, "\(form.label)")
            if let other = seen[namespace] { Issue.record("\(form.label) shares a namespace with \(other)") }
            seen[namespace] = form.label
        }
    }

    @Test func theSameCredentialSentTheSameWayIsTheSameTenant() {
        for form in Self.forms {
            #expect(namespace(form.headers) == namespace(form.headers), "\(form.label)")
            // Header names are case-insensitive; other headers and their order do not count.
            let renamed = form.headers.map { (name: $0.name.uppercased(), value: $0.value) }
            let padded = [(name: "Content-Type", value: "application/json")] + form.headers + [(name: "X-Other", value: "sk-9")]
            #expect(namespace(renamed) == namespace(form.headers), "\(form.label)")
            #expect(namespace(padded) == namespace(form.headers), "\(form.label)")
        }
        // Credential headers are grouped by name: their relative order does not matter.
        #expect(namespace([("x-api-key", "k"), ("Authorization", "Basic b")]) == namespace([("Authorization", "Basic b"), ("x-api-key", "k")]))
    }

    /// The namespaces of `Authorization: Bearer <token>` and `api-key: <token>` are those of the
    /// code before every form was namespaced: SHA-256 of the v1 tag and the token.
    @Test func bearerAndAPIKeyKeepTheirNamespaces() {
        let token = "sk-compat-0123"
        let before = String(SHA256Hasher.hash(Array("reprise-namespace-v1\u{0}\(token)".utf8)).hexString.prefix(32))
        #expect(namespace([("Authorization", "Bearer \(token)")]) == before)
        #expect(namespace([("api-key", token)]) == before)
    }

    @Test func noCredentialIsAnonymous() {
        #expect(namespace([]) == NamespaceMode.anonymous)
        #expect(namespace([("Content-Type", "application/json"), ("X-Api-Key-Hint", "sk-1")]) == NamespaceMode.anonymous)
        #expect(namespace([("Authorization", ""), ("x-api-key", " \t ")]) == NamespaceMode.anonymous)
        #expect(namespace([], mode: .header("x-team")) == NamespaceMode.anonymous)
        #expect(namespace([("Authorization", "Bearer x")], mode: .global) == NamespaceMode.globalNamespace)
    }

    @Test func headerModeReadsEveryValueOfARepeatedHeader() {
        let mode = NamespaceMode.header("x-team")
        let one = namespace([("X-Team", "red")], mode: mode)
        let two = namespace([("X-Team", "red"), ("x-team", "blue")], mode: mode)
        let swapped = namespace([("X-Team", "blue"), ("x-team", "red")], mode: mode)
        let joined = namespace([("X-Team", "red, blue")], mode: mode)
        #expect(one == "red")
        #expect(Set([one, two, swapped, joined]).count == 4)
        #expect(two.hasPrefix("h-"))
        #expect(two == namespace([("x-team", "red"), ("X-TEAM", "blue")], mode: mode))
    }

    /// The builder's memo and last-value shortcut give what hashing gives, for every form in
    /// every order, and a token as large as a header is remembered by its digest.
    @Test func builderAgreesWithHashingForEveryForm() {
        let builder = CacheKeyBuilder()
        let large: Headers = [("Authorization", "Bearer " + String(repeating: "k", count: 64 * 1024))]
        let sequence = Self.forms.map(\.headers) + Self.forms.reversed().map(\.headers) + [large, large] + Self.forms.map(\.headers)
        for (step, headers) in sequence.enumerated() {
            let memoized = builder.namespace(mode: .credential) { visit in for header in headers { visit(header.name, header.value) } }
            #expect(memoized == namespace(headers), "step \(step)")
        }
    }

    /// The proxy lists only the headers a mode reads (`reads(headerNamed:)`): the namespace is
    /// the one every header gives, in each mode, for every form among other headers.
    @Test func listingOnlyTheHeadersAModeReadsGivesTheSameNamespace() {
        let others: Headers = [("Host", "a"), ("Content-Type", "application/json"), ("X-Tenant", "t-1"), ("Authorization-Extra", "x")]
        for mode: NamespaceMode in [.credential, .header("x-tenant"), .global] {
            for form in Self.forms {
                let headers = others + form.headers + [("x-tenant", "t-2")]
                let listed = mode.namespace(hasher: SHA256Hasher()) { visit in
                    for header in headers where mode.reads(headerNamed: header.name) { visit(header.name, header.value) }
                }
                #expect(listed == namespace(headers, mode: mode), "\(mode), \(form.label)")
            }
        }
        #expect(NamespaceMode.credential.reads(headerNamed: "AUTHORIZATION") && !NamespaceMode.credential.reads(headerNamed: "content-type"))
        #expect(NamespaceMode.header("x-tenant").reads(headerNamed: "X-Tenant") && !NamespaceMode.global.reads(headerNamed: "authorization"))
    }
}
