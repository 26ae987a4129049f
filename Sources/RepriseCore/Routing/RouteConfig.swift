/// `routing.routes[]` — requests matching `paths` (and `models`, when given) split between
/// weighted variants.
public struct RouteConfig: Sendable, Decodable, Equatable {
    /// Its label in metrics, logs, the cache key and `/admin/flags/NAME/...`.
    public var name = ""
    /// Request paths (normalized like `cache.paths`); empty: every path.
    public var paths: [String] = []
    /// Values of the body's top-level `model`; empty: any model (or none).
    public var models: [String] = []
    /// Overrides `routing.sticky_by` for this route.
    public var stickyBy: StickyIdentity?
    /// The first is the stable variant: it takes what the others leave (and is the guard's
    /// reference); the others take their share of buckets from the bottom up, so raising a
    /// weight only adds users.
    public var variants: [VariantConfig] = []
    public var rollbackGuard = RollbackGuardConfig()

    public init(name: String, paths: [String] = [], models: [String] = [], variants: [VariantConfig]) {
        self.name = name
        self.paths = paths
        self.models = models
        self.variants = variants
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, paths, models, variants
        case stickyBy = "sticky_by"
        case rollbackGuard = "rollback_guard"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        paths = try c.decode(.paths, default: [])
        models = try c.decode(.models, default: [])
        stickyBy = try c.decodeIfPresent(StickyIdentity.self, forKey: .stickyBy)
        variants = try c.decode([VariantConfig].self, forKey: .variants)
        rollbackGuard = try c.decode(.rollbackGuard, default: RollbackGuardConfig())
    }

    func validate(keyPath: String, upstreams: Set<String>) -> [ConfigError] {
        var problems: [ConfigError] = []
        if !RoutingConfig.isLabel(name) {
            problems.append(ConfigError(keyPath: "\(keyPath).name", "must be 1-64 letters, digits, '-' or '_', got '\(name)'"))
        }
        for (index, path) in paths.enumerated() where !path.hasPrefix("/") {
            problems.append(ConfigError(keyPath: "\(keyPath).paths[\(index)]", "must start with /, got '\(path)'"))
        }
        if variants.isEmpty { problems.append(ConfigError(keyPath: "\(keyPath).variants", "needs at least one variant")) }
        var seen: Set<String> = []
        for (index, variant) in variants.enumerated() {
            let path = "\(keyPath).variants[\(index)]"
            if !RoutingConfig.isLabel(variant.name) {
                problems.append(ConfigError(keyPath: "\(path).name", "must be 1-64 letters, digits, '-' or '_', got '\(variant.name)'"))
            } else if !seen.insert(variant.name).inserted {
                problems.append(ConfigError(keyPath: "\(path).name", "'\(variant.name)' is used twice in this route"))
            }
            if !upstreams.contains(variant.upstream) {
                problems.append(ConfigError(keyPath: "\(path).upstream",
                                            "'\(variant.upstream)' is not an upstream (known: \(upstreams.sorted().joined(separator: ", ")))"))
            }
            if !(0...100).contains(variant.weight) {
                problems.append(ConfigError(keyPath: "\(path).weight", "must be between 0 and 100, got \(variant.weight)"))
            }
            if let model = variant.model, model.isEmpty {
                problems.append(ConfigError(keyPath: "\(path).model", "must not be empty (leave it out to keep the request's model)"))
            }
        }
        let total = variants.reduce(0) { $0 + $1.basisPoints }
        if !variants.isEmpty, total != VariantAssignment.bucketCount {
            problems.append(ConfigError(keyPath: "\(keyPath).variants",
                                        "weights must add up to 100, got \(Double(total) / 100)"))
        }
        if rollbackGuard.enabled {
            if variants.count < 2 {
                problems.append(ConfigError(keyPath: "\(keyPath).rollback_guard.enabled", "needs a second variant to compare with the first"))
            }
            problems += rollbackGuard.validate(keyPath: "\(keyPath).rollback_guard")
        }
        return problems
    }
}
