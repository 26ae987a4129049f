/// `metrics:` — the Prometheus endpoint and the bounded label sets it uses.
public struct MetricsConfig: Sendable, Decodable {
    /// Serve `GET <path>` in Prometheus text format.
    public var enabled = true
    /// Where the metrics are served (on the main listener unless `listen` is set).
    public var path = "/metrics"
    /// A separate listener for `/metrics`, `/healthz` and `/readyz` only (an admin port that a
    /// NetworkPolicy can open to Prometheus alone); unset: served on the main listener.
    public var listen: ListenAddress?
    /// The `model` label values: a request's model when it is one of these, else `other`
    /// (a client can invent model names without bound; a label cannot grow with them).
    public var models = MetricsConfig.defaultModels

    public static let defaultModels = [
        "deepseek-chat", "deepseek-reasoner",
        "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5", "gpt-5-mini", "gpt-5-nano",
        "o3", "o3-mini", "o4-mini",
        "text-embedding-3-small", "text-embedding-3-large",
    ]
    /// More would make every per-model series family that many times larger.
    public static let maxModels = 100

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, path, listen, models
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try container.decode(.enabled, default: true)
        path = try container.decode(.path, default: "/metrics")
        listen = try container.decodeIfPresent(ListenAddress.self, forKey: .listen)
        models = try container.decode(.models, default: Self.defaultModels)
    }

    func validate() -> [ConfigError] {
        var problems: [ConfigError] = []
        if !path.hasPrefix("/") || path.contains("?") || path.utf8.count > 256 {
            problems.append(ConfigError(keyPath: "metrics.path", "must be a path starting with '/' and without a query (got '\(path)')"))
        } else if path == "/healthz" || path == "/readyz" || path.hasPrefix("/admin/") || path.hasPrefix("/v1/") {
            problems.append(ConfigError(keyPath: "metrics.path", "'\(path)' is taken by another endpoint"))
        }
        if models.count > Self.maxModels {
            problems.append(ConfigError(keyPath: "metrics.models", "at most \(Self.maxModels) names (got \(models.count))"))
        }
        for name in models where name.isEmpty || name == "other" || name == "none" || name.utf8.count > 128 {
            problems.append(ConfigError(keyPath: "metrics.models", "'\(name)' cannot be a model label (empty, over 128 bytes, or the reserved 'other'/'none')"))
        }
        if Set(models).count != models.count {
            problems.append(ConfigError(keyPath: "metrics.models", "lists a name twice"))
        }
        return problems
    }
}
