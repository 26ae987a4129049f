/// `cache:` — the exact-match response cache.
public struct CacheConfig: Sendable, Decodable {
    public var enabled = true
    /// TTL of a stored answer unless the request's `X-Reprise-Cache-TTL` asks for another.
    public var ttl = ConfigDuration.seconds(3600)
    /// Upper bound for `X-Reprise-Cache-TTL`.
    public var maxTTL = ConfigDuration.seconds(86_400)
    /// Tenant isolation: `credential`, `header:NAME` or `global`.
    public var namespace = NamespaceMode.credential
    /// Requests that name no tenant: `bypass` (default) or `cache` (shared `anonymous` namespace).
    public var anonymous = AnonymousPolicy.bypass
    /// Request paths whose answers are cached (`/chat/completions` ≡ `/v1/chat/completions`).
    public var paths = CacheablePaths.defaultPaths
    /// `GET` paths whose answers are cached (`{name}` matches one segment); empty: none.
    public var getPaths = CacheableGetPaths.defaultPaths
    /// TTL of a stored `GET` answer (model lists change rarely, but they do change).
    public var getTTL = ConfigDuration.seconds(300)
    /// Top-level body fields that never change the answer, left out of the key.
    public var ignoredFields = JSONCanonicalizer.defaultIgnoredTopLevelFields
    /// When set, keys are HMAC-SHA-256 with this secret instead of SHA-256.
    public var secret = ""
    /// Encryption at rest of Redis entries: where the sealing key comes from (`file:` or `env:`).
    public var encryptionKey: EncryptionKeySource?
    /// Older keys that still open entries (rotation); they never seal.
    public var encryptionPreviousKeys: [EncryptionKeySource] = []
    /// What to do with requests that ask for sampling (`temperature > 0`, the default).
    public var nonDeterministic = NonDeterministicPolicy.cache
    /// Largest answer stored; larger answers pass through uncached.
    public var maxEntryBytes = ConfigByteSize.mebibytes(4)
    public var memory = MemoryCacheConfig()
    public var redis = RedisCacheConfig()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, ttl, namespace, anonymous, paths, secret, memory, redis
        case maxTTL = "max_ttl"
        case ignoredFields = "ignored_fields"
        case getPaths = "get_paths"
        case getTTL = "get_ttl"
        case nonDeterministic = "non_deterministic"
        case maxEntryBytes = "max_entry_bytes"
        case encryptionKey = "encryption_key"
        case encryptionPreviousKeys = "encryption_previous_keys"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = CacheConfig()
        enabled = try container.decode(.enabled, default: defaults.enabled)
        ttl = try container.decode(.ttl, default: defaults.ttl)
        maxTTL = try container.decode(.maxTTL, default: defaults.maxTTL)
        if let text = try container.decodeIfPresent(String.self, forKey: .namespace) {
            do {
                namespace = try NamespaceMode(parsing: text)
            } catch {
                throw ConfigError(keyPath: configKeyPath(decoder.codingPath + [CodingKeys.namespace]), error.description)
            }
        }
        if let text = try container.decodeIfPresent(String.self, forKey: .anonymous) {
            guard let policy = AnonymousPolicy(rawValue: text) else {
                throw ConfigError(keyPath: configKeyPath(decoder.codingPath + [CodingKeys.anonymous]),
                                  "'\(text)' is not one of: bypass, cache")
            }
            anonymous = policy
        }
        paths = try container.decode(.paths, default: defaults.paths)
        getPaths = try container.decode(.getPaths, default: defaults.getPaths)
        getTTL = try container.decode(.getTTL, default: defaults.getTTL)
        ignoredFields = try container.decode(.ignoredFields, default: defaults.ignoredFields)
        secret = try container.decode(.secret, default: defaults.secret)
        if let text = try container.decodeIfPresent(String.self, forKey: .nonDeterministic) {
            guard let policy = NonDeterministicPolicy(rawValue: text) else {
                throw ConfigError(keyPath: configKeyPath(decoder.codingPath + [CodingKeys.nonDeterministic]),
                                  "'\(text)' is not one of: cache, bypass")
            }
            nonDeterministic = policy
        }
        maxEntryBytes = try container.decode(.maxEntryBytes, default: defaults.maxEntryBytes)
        if let text = try container.decodeIfPresent(String.self, forKey: .encryptionKey), !text.isEmpty {
            encryptionKey = try Self.keySource(text, path: decoder.codingPath + [CodingKeys.encryptionKey])
        }
        if let texts = try container.decodeIfPresent([String].self, forKey: .encryptionPreviousKeys) {
            encryptionPreviousKeys = try texts.map { try Self.keySource($0, path: decoder.codingPath + [CodingKeys.encryptionPreviousKeys]) }
        }
        memory = try container.decode(.memory, default: defaults.memory)
        redis = try container.decode(.redis, default: defaults.redis)
    }

    private static func keySource(_ text: String, path: [any CodingKey]) throws -> EncryptionKeySource {
        do {
            return try EncryptionKeySource(parsing: text)
        } catch {
            throw ConfigError(keyPath: configKeyPath(path), error.description)
        }
    }

    func validate() -> [ConfigError] {
        var problems: [ConfigError] = []
        if encryptionKey == nil, !encryptionPreviousKeys.isEmpty {
            problems.append(ConfigError(keyPath: "cache.encryption_previous_keys", "needs cache.encryption_key (the key that seals)"))
        }
        if ttl.nanoseconds < 1_000_000_000 {
            problems.append(ConfigError(keyPath: "cache.ttl", "must be at least 1s, got \(ttl)"))
        }
        if maxTTL < ttl {
            problems.append(ConfigError(keyPath: "cache.max_ttl", "must not be shorter than cache.ttl (\(ttl)), got \(maxTTL)"))
        }
        for (index, path) in paths.enumerated() where !path.hasPrefix("/") {
            problems.append(ConfigError(keyPath: "cache.paths[\(index)]", "'\(path)' must start with /"))
        }
        for (index, path) in getPaths.enumerated() {
            do {
                _ = try CacheableGetPaths([path])
            } catch {
                problems.append(ConfigError(keyPath: "cache.get_paths[\(index)]", error.description))
            }
        }
        if getTTL.nanoseconds < 1_000_000_000 {
            problems.append(ConfigError(keyPath: "cache.get_ttl", "must be at least 1s, got \(getTTL)"))
        }
        if maxTTL < getTTL {
            problems.append(ConfigError(keyPath: "cache.max_ttl", "must not be shorter than cache.get_ttl (\(getTTL)), got \(maxTTL)"))
        }
        if maxEntryBytes.bytes < 1024 {
            problems.append(ConfigError(keyPath: "cache.max_entry_bytes", "must be at least 1KiB, got \(maxEntryBytes)"))
        }
        if memory.enabled, memory.maxBytes < maxEntryBytes {
            problems.append(ConfigError(
                keyPath: "cache.memory.max_bytes",
                "must be at least cache.max_entry_bytes (\(maxEntryBytes)), got \(memory.maxBytes)"
            ))
        }
        return problems + redis.validate()
    }

    /// The cache policy of `GET` answers: `get_ttl` instead of `ttl`.
    public var getPolicy: CachePolicy {
        var policy = self.policy
        policy.defaultTTLSeconds = Int(getTTL.nanoseconds / 1_000_000_000)
        return policy
    }

    /// The parsed `get_paths` (validated at load: a refused pattern never gets here).
    public var cacheableGetPaths: CacheableGetPaths {
        (try? CacheableGetPaths(getPaths)) ?? CacheableGetPaths.none
    }

    /// The cache policy values for `CacheDecision.decide`.
    public var policy: CachePolicy {
        CachePolicy(
            defaultTTLSeconds: Int(ttl.nanoseconds / 1_000_000_000),
            maxTTLSeconds: Int(maxTTL.nanoseconds / 1_000_000_000),
            nonDeterministic: nonDeterministic
        )
    }
}

/// `cache.memory:` — the in-process L1 (LRU within a byte budget).
public struct MemoryCacheConfig: Sendable, Decodable {
    public var enabled = true
    public var maxBytes = ConfigByteSize.mebibytes(256)

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled
        case maxBytes = "max_bytes"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try container.decode(.enabled, default: true)
        maxBytes = try container.decode(.maxBytes, default: MemoryCacheConfig().maxBytes)
    }
}

/// `cache.redis:` — Redis as the shared L2 behind L1 (fleet-wide cache). Off when `url` is empty.
///
/// Redis is an accelerator, never a dependency: when it is slow or down, lookups count as misses
/// after `lookup_timeout`, stores are dropped, and a breaker stops calling it until probes succeed.
public struct RedisCacheConfig: Sendable, Decodable {
    /// `redis://[user:password@]host[:port][/db]` or `unix:///path/redis.sock?db=N`; empty: no Redis.
    public var url = ""
    /// Connections; 0 (the default): one per event loop (`server.threads`), at most
    /// `maxPoolSize`, so a lookup is sent on its own loop's connection and never hops threads.
    public var poolSize = 0
    public static let maxPoolSize = 64
    public var connectTimeout = ConfigDuration.seconds(1)
    /// Timeout of stores and purges.
    public var commandTimeout = ConfigDuration.seconds(1)
    /// How long a lookup may take before it counts as a miss.
    public var lookupTimeout = ConfigDuration.milliseconds(50)
    /// Consecutive failures that open the breaker (Redis is then skipped and probed).
    public var breakerFailures = 5
    /// Time between probes while the breaker is open.
    public var breakerProbeInterval = ConfigDuration.milliseconds(500)

    public init() {}

    public var isEnabled: Bool { !url.isEmpty }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url
        case poolSize = "pool_size"
        case connectTimeout = "connect_timeout"
        case commandTimeout = "command_timeout"
        case lookupTimeout = "lookup_timeout"
        case breakerFailures = "breaker_failures"
        case breakerProbeInterval = "breaker_probe_interval"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RedisCacheConfig()
        url = try container.decode(.url, default: defaults.url)
        poolSize = try container.decode(.poolSize, default: defaults.poolSize)
        connectTimeout = try container.decode(.connectTimeout, default: defaults.connectTimeout)
        commandTimeout = try container.decode(.commandTimeout, default: defaults.commandTimeout)
        lookupTimeout = try container.decode(.lookupTimeout, default: defaults.lookupTimeout)
        breakerFailures = try container.decode(.breakerFailures, default: defaults.breakerFailures)
        breakerProbeInterval = try container.decode(.breakerProbeInterval, default: defaults.breakerProbeInterval)
    }

    func validate() -> [ConfigError] {
        var problems: [ConfigError] = []
        if !url.isEmpty, !(url.hasPrefix("redis://") || url.hasPrefix("unix://")) {
            problems.append(ConfigError(keyPath: "cache.redis.url", "must start with redis:// or unix:// (rediss:// is not supported: hiredis 0.14 has no TLS)"))
        }
        if !(0...Self.maxPoolSize).contains(poolSize) {
            problems.append(ConfigError(keyPath: "cache.redis.pool_size", "must be between 0 (one per event loop) and \(Self.maxPoolSize), got \(poolSize)"))
        }
        for (key, value) in [("connect_timeout", connectTimeout), ("command_timeout", commandTimeout),
                             ("lookup_timeout", lookupTimeout), ("breaker_probe_interval", breakerProbeInterval)]
        where value.nanoseconds <= 0 {
            problems.append(ConfigError(keyPath: "cache.redis.\(key)", "must be greater than 0"))
        }
        if breakerFailures < 1 {
            problems.append(ConfigError(keyPath: "cache.redis.breaker_failures", "must be at least 1"))
        }
        return problems
    }
}

/// `admin:` — the `/admin/...` endpoints.
public struct AdminConfig: Sendable, Decodable {
    /// Bearer token the admin endpoints require; empty disables them.
    public var token = ""

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case token
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        token = try container.decode(.token, default: "")
    }

    func validate() -> [ConfigError] {
        if !token.isEmpty, token.utf8.count < 16 {
            return [ConfigError(keyPath: "admin.token", "must be at least 16 characters when set")]
        }
        return []
    }
}
