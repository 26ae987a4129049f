/// `auth:` — who may use the proxy (`mode`), the keys Reprise issued, the upstream's key.
public struct AuthConfig: Sendable, Decodable {
    public var mode = AuthMode.passthrough
    /// The upstream's key in `keys` mode (`env:NAME` or `file:/path`), sent as
    /// `Authorization: Bearer` in place of the client's credential.
    public var upstreamKey: SecretReference?
    /// Issued keys listed here.
    public var keys: [ClientKeyConfig] = []
    /// A YAML list of keys in the same shape (a mounted Kubernetes Secret), read at start.
    public var keysFile = ""

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, keys
        case upstreamKey = "upstream_key"
        case keysFile = "keys_file"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try container.decodeIfPresent(String.self, forKey: .mode) {
            guard let mode = AuthMode(rawValue: text) else {
                throw ConfigError(keyPath: configKeyPath(decoder.codingPath + [CodingKeys.mode]), "'\(text)' is not one of: passthrough, keys")
            }
            self.mode = mode
        }
        if let text = try container.decodeIfPresent(String.self, forKey: .upstreamKey), !text.isEmpty {
            do {
                upstreamKey = try SecretReference(parsing: text)
            } catch {
                throw ConfigError(keyPath: configKeyPath(decoder.codingPath + [CodingKeys.upstreamKey]), error.description)
            }
        }
        keys = try container.decode(.keys, default: [])
        keysFile = try container.decode(.keysFile, default: "")
    }

    func validate() -> [ConfigError] {
        var problems = keys.enumerated().flatMap { $0.element.validate(keyPath: "auth.keys[\($0.offset)]") }
        problems += Self.duplicates(in: keys, keyPath: "auth.keys")
        guard mode == .keys else {
            if !keys.isEmpty || !keysFile.isEmpty {
                problems.append(ConfigError(keyPath: "auth.mode", "is passthrough: auth.keys and auth.keys_file are used only with mode: keys"))
            }
            return problems
        }
        if upstreamKey == nil {
            problems.append(ConfigError(keyPath: "auth.upstream_key", "required with mode: keys (env:NAME or file:/path: the upstream's key, sent in place of the client's)"))
        }
        if keys.isEmpty, keysFile.isEmpty {
            problems.append(ConfigError(keyPath: "auth.keys", "mode: keys needs at least one key (auth.keys or auth.keys_file)"))
        }
        return problems
    }

    /// Two keys with one name would share a tenant; two with one hash, an identity.
    public static func duplicates(in keys: [ClientKeyConfig], keyPath: String) -> [ConfigError] {
        var problems: [ConfigError] = []
        var names = Set<String>()
        var hashes = Set<String>()
        for (index, key) in keys.enumerated() {
            if !names.insert(key.name).inserted {
                problems.append(ConfigError(keyPath: "\(keyPath)[\(index)].name", "'\(key.name)' is used by another key"))
            }
            if !hashes.insert(key.keySHA256).inserted {
                problems.append(ConfigError(keyPath: "\(keyPath)[\(index)].key_sha256", "is the hash of another key"))
            }
        }
        return problems
    }
}
