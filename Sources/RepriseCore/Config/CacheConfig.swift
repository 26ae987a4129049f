/// `cache:` — the exact-match response cache.
public struct CacheConfig: Sendable, Decodable {
    public var enabled = true
    /// TTL of a stored answer unless the request's `X-Reprise-Cache-TTL` asks for another.
    public var ttl = ConfigDuration.seconds(3600)
    /// Upper bound for `X-Reprise-Cache-TTL`.
    public var maxTTL = ConfigDuration.seconds(86_400)
    /// Tenant isolation: `credential`, `header:NAME` or `global`.
    public var namespace = NamespaceMode.credential
    /// Request paths whose answers are cached (`/chat/completions` ≡ `/v1/chat/completions`).
    public var paths = CacheablePaths.defaultPaths
    /// Top-level body fields that never change the answer, left out of the key.
    public var ignoredFields = JSONCanonicalizer.defaultIgnoredTopLevelFields
    /// When set, keys are HMAC-SHA-256 with this secret instead of SHA-256.
    public var secret = ""
    /// What to do with requests that ask for sampling (`temperature > 0`, the default).
    public var nonDeterministic = NonDeterministicPolicy.cache
    /// Largest answer stored; larger answers pass through uncached.
    public var maxEntryBytes = ConfigByteSize.mebibytes(4)
    public var memory = MemoryCacheConfig()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, ttl, namespace, paths, secret, memory
        case maxTTL = "max_ttl"
        case ignoredFields = "ignored_fields"
        case nonDeterministic = "non_deterministic"
        case maxEntryBytes = "max_entry_bytes"
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
        paths = try container.decode(.paths, default: defaults.paths)
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
        memory = try container.decode(.memory, default: defaults.memory)
    }

    func validate() -> [ConfigError] {
        var problems: [ConfigError] = []
        if ttl.nanoseconds < 1_000_000_000 {
            problems.append(ConfigError(keyPath: "cache.ttl", "must be at least 1s, got \(ttl)"))
        }
        if maxTTL < ttl {
            problems.append(ConfigError(keyPath: "cache.max_ttl", "must not be shorter than cache.ttl (\(ttl)), got \(maxTTL)"))
        }
        for (index, path) in paths.enumerated() where !path.hasPrefix("/") {
            problems.append(ConfigError(keyPath: "cache.paths[\(index)]", "'\(path)' must start with /"))
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
        return problems
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
