/// The identity of a cached answer (DESIGN.md, cache key contract).
public struct CacheKey: Sendable, Hashable, CustomStringConvertible {
    /// Version of the key derivation; part of `redisKey`, bumped when canonicalization changes.
    public static let version = "v1"

    public let namespace: String
    /// Lower-case hex SHA-256 (or HMAC-SHA-256) of the framed scope and canonical body.
    public let digest: String
    /// `reprise:v1:<namespace>:<digest>`.
    public let redisKey: String

    /// Hashed once here: a key is looked up (L1, in-flight registry) more often than it is made,
    /// and hashing its strings on each lookup was a visible share of a hit.
    private let precomputedHash: UInt64

    public init(namespace: String, digest: String) {
        self.namespace = namespace
        self.digest = digest
        // One allocation (string interpolation grew the string several times).
        var redisKey = String()
        redisKey.reserveCapacity(12 + namespace.utf8.count + digest.utf8.count)
        redisKey += "reprise:"
        redisKey += Self.version
        redisKey += ":"
        redisKey += namespace
        redisKey += ":"
        redisKey += digest
        self.redisKey = redisKey
        // FNV-1a over both fields, with a separator byte no field contains.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in namespace.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        hash = (hash ^ 0xFF) &* 0x0000_0100_0000_01b3
        for byte in digest.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        precomputedHash = hash
    }

    public static func == (lhs: CacheKey, rhs: CacheKey) -> Bool {
        lhs.precomputedHash == rhs.precomputedHash && lhs.digest == rhs.digest && lhs.namespace == rhs.namespace
    }

    /// Feeds the precomputed value to the dictionary's (seeded) hasher.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(precomputedHash)
    }

    /// The start of every Redis key of `namespace`, or of every key of this version when nil
    /// (a purge deletes the keys that start with it).
    public static func redisKeyPrefix(namespace: String?) -> String {
        namespace.map { "reprise:\(version):\($0):" } ?? "reprise:\(version):"
    }

    public var description: String { redisKey }
}

/// Everything outside the body that a key depends on.
public struct CacheScope: Sendable, Equatable {
    /// Tenant namespace (`NamespaceMode.namespace`).
    public var namespace: String
    /// Route name from configuration.
    public var route: String
    /// Upstream variant (canary/model variant) the request is routed to.
    public var variant: String
    /// HTTP method (upper-cased when framed).
    public var method: String
    /// The normalized request path (`CachePath.normalize`).
    public var normalizedPath: String
    /// The raw query string, a separate key field taken verbatim, so requests that differ in
    /// query parameters (e.g. Azure's `api-version`) never share a key.
    public var query: Substring

    /// Request target: path with optional query string (setting it normalizes the path).
    public var target: String {
        get { query.isEmpty ? normalizedPath : normalizedPath + "?" + query }
        set {
            normalizedPath = CachePath.normalize(newValue)
            query = CachePath.queryString(of: newValue)
        }
    }

    public init(namespace: String, route: String, variant: String, method: String, target: String) {
        self.init(namespace: namespace, route: route, variant: variant, method: method,
                  normalizedPath: CachePath.normalize(target), query: CachePath.queryString(of: target))
    }

    /// For a caller that already normalized the path (once per request).
    public init(namespace: String, route: String, variant: String, method: String, normalizedPath: String, query: Substring) {
        self.namespace = namespace
        self.route = route
        self.variant = variant
        self.method = method
        self.normalizedPath = normalizedPath
        self.query = query
    }
}

/// A key and what policy needs to know about the request body.
public struct CacheKeyResult: Sendable, Equatable {
    public let key: CacheKey
    public let facts: RequestFacts

    public init(key: CacheKey, facts: RequestFacts) {
        self.key = key
        self.facts = facts
    }
}
