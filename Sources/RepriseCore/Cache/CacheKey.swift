/// The identity of a cached answer (DESIGN.md, cache key contract).
public struct CacheKey: Sendable, Hashable, CustomStringConvertible {
    /// Version of the key derivation; part of `redisKey`, bumped when canonicalization changes.
    public static let version = "v1"

    public let namespace: String
    /// Lower-case hex SHA-256 (or HMAC-SHA-256) of the framed scope and canonical body.
    public let digest: String
    /// `reprise:v1:<namespace>:<digest>`.
    public let redisKey: String

    public init(namespace: String, digest: String) {
        self.namespace = namespace
        self.digest = digest
        self.redisKey = "reprise:\(Self.version):\(namespace):\(digest)"
    }

    /// The Redis key pattern matching every entry of a namespace (for purge).
    public static func redisPattern(namespace: String) -> String {
        "reprise:\(version):\(namespace):*"
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
    /// Request target: path with optional query string. The path is normalized
    /// (`CachePath.normalize`); the query string is included verbatim as a separate field, so
    /// requests that differ in query parameters (e.g. Azure's `api-version`) never share a key.
    public var target: String

    public init(namespace: String, route: String, variant: String, method: String, target: String) {
        self.namespace = namespace
        self.route = route
        self.variant = variant
        self.method = method
        self.target = target
    }
}

/// A key and what policy needs to know about the request body.
public struct CacheKeyResult: Sendable, Equatable {
    public let key: CacheKey
    public let facts: RequestFacts
}
