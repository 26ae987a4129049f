import RepriseCrypto

/// Computes cache keys: digest over the framed scope and the canonical JSON body.
///
/// Framing: a domain tag `reprise-cache-key-v1`, then the fields namespace, route, variant,
/// method (upper-cased), normalized path, raw query string and canonical body, each written as
/// an 8-byte big-endian length followed by its bytes — no two different field tuples frame to
/// the same byte string. Digest: SHA-256, or HMAC-SHA-256 keyed with `cache.secret` when one is
/// configured (then keys cannot be precomputed by someone who does not know the secret). Hex.
///
/// Reusable and not thread-safe (owns the hasher and the canonicalizer's scratch buffers): one
/// per event loop / thread.
public final class CacheKeyBuilder {
    private static let domainTag = Array("reprise-cache-key-v1".utf8)

    private let canonicalizer: JSONCanonicalizer
    private let hasher: SHA256Hasher
    private let hmac: HMACSHA256?
    private var memo: CacheKeyMemo
    private var namespaceLines = NamespaceLineMemo()

    /// - Parameters:
    ///   - secret: `cache.secret`; nil or empty → plain SHA-256.
    ///   - ignoredTopLevelFields: `cache.ignored_fields`.
    ///   - maxDepth: JSON nesting bound; deeper bodies are not cacheable.
    ///   - memoSlots: keys remembered by their exact scope and body bytes (`CacheKeyMemo`);
    ///     0 computes every key.
    ///   - memoMaxBodyBytes: largest body whose key is remembered.
    public init(secret: [UInt8]? = nil,
                ignoredTopLevelFields: [String] = JSONCanonicalizer.defaultIgnoredTopLevelFields,
                maxDepth: Int = JSONCanonicalizer.defaultMaxDepth,
                memoSlots: Int = 0,
                memoMaxBodyBytes: Int = 16 * 1024) {
        canonicalizer = JSONCanonicalizer(ignoredTopLevelFields: ignoredTopLevelFields, maxDepth: maxDepth)
        memo = CacheKeyMemo(slotCount: memoSlots, maxBodyBytes: memoMaxBodyBytes)
        hasher = SHA256Hasher()
        if let secret, !secret.isEmpty { hmac = HMACSHA256(key: secret) } else { hmac = nil }
    }

    /// The namespace of a request under `mode` (uses this builder's hasher); `forEachHeader`
    /// lists the request's headers (`NamespaceMode.HeaderVisitor`).
    ///
    /// Credential namespaces are remembered per builder: a sidecar sees a handful of
    /// credentials, and hashing the same token on every request was a visible share of a hit.
    /// The namespace under `mode` of a request whose lines `mode` reads are those `forEachLine`
    /// gives (name and value bytes, in order), when the last request this builder was told of
    /// (`rememberNamespace`) had exactly these lines; nil otherwise (compute it with
    /// `namespace(mode:forEachHeader:)`, then `rememberNamespace`).
    public func rememberedNamespace(
        mode: NamespaceMode,
        lines forEachLine: ((_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Void) -> Void
    ) -> String? {
        namespaceLines.lookup(mode: mode, lines: forEachLine)
    }

    /// Remembers `namespace` as the one of the lines the last `rememberedNamespace` call read.
    public func rememberNamespace(_ namespace: String, mode: NamespaceMode) {
        namespaceLines.remember(namespace, mode: mode)
    }

    public func namespace(mode: NamespaceMode, forEachHeader: NamespaceMode.HeaderVisitor) -> String {
        guard case .credential = mode else {
            return mode.namespace(hasher: hasher, forEachHeader: forEachHeader)
        }
        // One pass over the headers, no allocation: the credential headers counted, the one
        // `Authorization` value kept when it is the only credential.
        let credentials = CredentialHeaders(forEachHeader)
        guard !credentials.isEmpty else { return NamespaceMode.anonymous }
        // A client sends the same `Authorization` value on every request: compared whole, it
        // skips hashing the token. Only when it is the request's one credential (another
        // credential header changes the namespace).
        let authorization = credentials.singleAuthorization
        // Bytes, not String `==` (canonical equivalence): the namespace hashes the bytes.
        if let authorization, let last = lastAuthorization, last.value.hasSameUTF8(as: authorization) {
            return last.namespace
        }
        // Keyed by the digest the namespace comes from, not by the credential: tokens may be
        // as large as a header (64 KiB), and 1024 of them per loop would be 64 MiB.
        let digest = credentials.digest(hasher: hasher, forEachHeader)
        let namespace: String
        if let known = credentialNamespaces[digest] {
            namespace = known
        } else {
            namespace = NamespaceMode.credentialNamespace(digest: digest)
            if credentialNamespaces.count >= Self.credentialMemoLimit {
                credentialNamespaces.removeAll(keepingCapacity: true)
            }
            credentialNamespaces[digest] = namespace
        }
        if let authorization { lastAuthorization = (authorization, namespace) }
        return namespace
    }

    /// The last lone `Authorization` value and its namespace (one value per builder, so at
    /// most one header's bytes held).
    private var lastAuthorization: (value: String, namespace: String)?
    /// Namespaces by the SHA-256 they are taken from (`CredentialHeaders.digest`): 32 bytes
    /// per credential whatever its size.
    private var credentialNamespaces: [[UInt8]: String] = [:]
    /// Bound of the credential memo (emptied when full: a rare recomputation, never growth).
    static let credentialMemoLimit = 1024

    /// The key of a request, or why it cannot have one.
    public func key<Body: Collection>(scope: CacheScope, body: Body) throws(NotCacheableReason) -> CacheKeyResult
    where Body.Element == UInt8 {
        if memo.isEnabled, body.count <= memo.maxBodyBytes,
           let outcome = body.withContiguousStorageIfAvailable({ rememberedKey(scope: scope, body: UnsafeRawBufferPointer($0)) }) {
            return try outcome.get()
        }
        return try computeKey(scope: scope, body: body)
    }

    /// The memo's key for these exact bytes, or the computed one (then remembered).
    private func rememberedKey(scope: CacheScope, body: UnsafeRawBufferPointer) -> Result<CacheKeyResult, NotCacheableReason> {
        let hash = CacheKeyMemo.hash(body)
        if let known = memo.lookup(hash: hash, scope: scope, body: body) { return .success(known) }
        do {
            let result = try computeKey(scope: scope, body: body)
            memo.remember(hash: hash, scope: scope, body: body, result: result)
            return .success(result)
        } catch {
            return .failure(error)
        }
    }

    private func computeKey<Body: Collection>(scope: CacheScope, body: Body) throws(NotCacheableReason) -> CacheKeyResult
    where Body.Element == UInt8 {
        let facts = try canonicalizer.canonicalize(body)
        return CacheKeyResult(key: CacheKey(namespace: scope.namespace, digest: digest(scope: scope)), facts: facts)
    }

    /// The key memo's slot for `body` (for tests).
    func memoSlotIndex(of body: [UInt8]) -> Int {
        body.withUnsafeBytes { memo.slotIndex(of: $0) }
    }

    /// The canonical body bytes of the last computed key (for tests and debugging; a key taken
    /// from the memo leaves it unchanged).
    public var lastCanonicalBody: [UInt8] { canonicalizer.output }

    /// The key of a request without a body (a cached `GET`): the scope alone, framed with an
    /// empty body field (no JSON body canonicalizes to zero bytes, so it names no `POST`).
    public func key(bodilessScope scope: CacheScope) -> CacheKey {
        CacheKey(namespace: scope.namespace, digest: digest(scope: scope, canonicalBody: false))
    }

    private func digest(scope: CacheScope, canonicalBody: Bool = true) -> String {
        feed(Self.domainTag)
        feedField(scope.namespace.utf8)
        feedField(scope.route.utf8)
        feedField(scope.variant.utf8)
        feedField(scope.method.uppercased().utf8)
        feedField(scope.normalizedPath.utf8)
        feedField(scope.query.utf8)
        if canonicalBody { feedField(canonicalizer.output) } else { feedField(EmptyCollection<UInt8>()) }
        return (hmac?.finalize() ?? hasher.finalize()).hexString
    }

    private func feedField<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        var length = UInt64(bytes.count).bigEndian
        withUnsafeBytes(of: &length) { feed($0) }
        feed(bytes)
    }

    private func feed(_ bytes: UnsafeRawBufferPointer) {
        if let hmac { hmac.update(bytes) } else { hasher.update(bytes) }
    }

    private func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if let hmac { hmac.update(bytes) } else { hasher.update(bytes) }
    }
}
