/// One issued client key (`auth.keys[]`, or an item of `auth.keys_file`): its name (the tenant:
/// cache namespace, metrics-free log field `client`), the SHA-256 of the key, what it may do.
public struct ClientKeyConfig: Sendable, Equatable, Decodable {
    public var name: String
    /// 64 lower-case hex digits: `printf %s "$KEY" | sha256sum`.
    public var keySHA256: String
    /// Models the key may name; empty: any.
    public var models: [String] = []
    /// Routes the key may use (enforced once a request has a route); empty: any.
    public var routes: [String] = []
    /// Cap on `max_tokens` / `max_completion_tokens` / `max_output_tokens`; 0: none.
    public var maxTokens = 0
    public var maxTokensMode = MaxTokensMode.clamp
    /// This key's own limits, replacing `limits:`'s values where set (non-zero).
    public var limits = RateLimits()

    public init(name: String, keySHA256: String, models: [String] = [], routes: [String] = [], maxTokens: Int = 0,
                maxTokensMode: MaxTokensMode = .clamp, limits: RateLimits = RateLimits()) {
        self.name = name
        self.keySHA256 = keySHA256
        self.models = models
        self.routes = routes
        self.maxTokens = maxTokens
        self.maxTokensMode = maxTokensMode
        self.limits = limits
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, models, routes, limits
        case keySHA256 = "key_sha256"
        case maxTokens = "max_tokens"
        case maxTokensMode = "max_tokens_mode"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        keySHA256 = try container.decode(String.self, forKey: .keySHA256).lowercased()
        models = try container.decode(.models, default: [])
        routes = try container.decode(.routes, default: [])
        maxTokens = try container.decode(.maxTokens, default: 0)
        if let text = try container.decodeIfPresent(String.self, forKey: .maxTokensMode) {
            guard let mode = MaxTokensMode(rawValue: text) else {
                throw ConfigError(keyPath: configKeyPath(decoder.codingPath + [CodingKeys.maxTokensMode]), "'\(text)' is not one of: clamp, refuse")
            }
            maxTokensMode = mode
        }
        limits = try container.decode(.limits, default: RateLimits())
    }

    /// `keyPath` is where this key is (`auth.keys[0]`, `auth.keys_file[2]`).
    public func validate(keyPath: String) -> [ConfigError] {
        var problems: [ConfigError] = []
        // The name is the cache namespace: the namespace alphabet keeps purge patterns inside it.
        if name.isEmpty || name.utf8.count > 64 || !name.utf8.allSatisfy(NamespaceMode.isNamespaceByte)
            || name == NamespaceMode.anonymous || name == NamespaceMode.globalNamespace {
            problems.append(ConfigError(keyPath: "\(keyPath).name", "'\(name)' must be 1 to 64 of [A-Za-z0-9._-], not 'anonymous' or 'global'"))
        }
        if keySHA256.utf8.count != 64 || !keySHA256.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) {
            problems.append(ConfigError(keyPath: "\(keyPath).key_sha256", "must be 64 hex digits (the SHA-256 of the key, never the key)"))
        }
        if maxTokens < 0 {
            problems.append(ConfigError(keyPath: "\(keyPath).max_tokens", "must be 0 (no cap) or more, got \(maxTokens)"))
        }
        return problems + limits.validate(keyPath: "\(keyPath).limits")
    }
}
