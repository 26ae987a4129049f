/// `routing:` — routes with weighted variants, their flags and how they are reloaded.
///
/// Everything here is re-read on a reload (file change, SIGHUP) and applied to new requests;
/// `upstreams:` and every other section need a restart.
public struct RoutingConfig: Sendable, Decodable, Equatable {
    /// The identity that keeps a user on one variant, unless a route says otherwise.
    public var stickyBy = StickyIdentity.credential
    /// Credentials (API keys, as sent after `Bearer `, or `sha256:HEX` of one) whose requests may
    /// pick their variant with `X-Reprise-Variant`; others have the header ignored. Only hashes
    /// are kept in memory.
    public var forceVariantCredentials: [String] = []
    /// How often the fleet-wide flag overrides are read from Redis (`cache.redis.url`).
    public var flagsPollInterval = ConfigDuration.seconds(1)
    /// The Redis hash holding the overrides (field `ROUTE/VARIANT`).
    public var flagsKey = "reprise:flags"
    /// How often the configuration file is checked for a change (a Kubernetes ConfigMap update
    /// is a symlink swap, which this sees); 0 turns watching off (SIGHUP still reloads).
    public var watchInterval = ConfigDuration.seconds(2)
    public var routes: [RouteConfig] = []

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case routes
        case stickyBy = "sticky_by"
        case forceVariantCredentials = "force_variant_credentials"
        case flagsPollInterval = "flags_poll_interval"
        case flagsKey = "flags_key"
        case watchInterval = "watch_interval"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RoutingConfig()
        stickyBy = try c.decode(.stickyBy, default: d.stickyBy)
        forceVariantCredentials = try c.decode(.forceVariantCredentials, default: d.forceVariantCredentials)
        flagsPollInterval = try c.decode(.flagsPollInterval, default: d.flagsPollInterval)
        flagsKey = try c.decode(.flagsKey, default: d.flagsKey)
        watchInterval = try c.decode(.watchInterval, default: d.watchInterval)
        routes = try c.decode(.routes, default: d.routes)
    }

    func validate(upstreams: Set<String>) -> [ConfigError] {
        var problems: [ConfigError] = []
        var names: Set<String> = []
        for (index, route) in routes.enumerated() {
            problems += route.validate(keyPath: "routing.routes[\(index)]", upstreams: upstreams)
            if !names.insert(route.name).inserted {
                problems.append(ConfigError(keyPath: "routing.routes[\(index)].name", "'\(route.name)' is used twice"))
            }
        }
        if flagsPollInterval.nanoseconds < 100_000_000 {
            problems.append(ConfigError(keyPath: "routing.flags_poll_interval", "must be at least 100ms"))
        }
        if flagsKey.isEmpty { problems.append(ConfigError(keyPath: "routing.flags_key", "must not be empty")) }
        if watchInterval.nanoseconds != 0, watchInterval.nanoseconds < 100_000_000 {
            problems.append(ConfigError(keyPath: "routing.watch_interval", "must be 0 (off) or at least 100ms"))
        }
        for (index, credential) in forceVariantCredentials.enumerated() {
            if ForcedVariantCredentials.hash(configured: credential) == nil {
                problems.append(ConfigError(keyPath: "routing.force_variant_credentials[\(index)]",
                                            "must be a non-empty key or sha256: followed by 64 hex digits"))
            }
        }
        return problems
    }

    /// Route and variant names go into metric labels, Redis field names and URLs.
    static func isLabel(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count) && text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }
}
