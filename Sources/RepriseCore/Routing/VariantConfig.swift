/// `routing.routes[].variants[]` — one way to serve a route's requests.
public struct VariantConfig: Sendable, Decodable, Equatable {
    /// Its label in metrics, logs, the cache key and `X-Reprise-Variant`.
    public var name = ""
    /// A key of `upstreams:`, or `default` (the `upstream:` section).
    public var upstream = "default"
    /// Percent of the route's traffic (0...100, two decimals); the weights of a route add up to 100.
    public var weight = 0.0
    /// Replaces the request body's top-level `model` before it goes upstream; nil: unchanged.
    public var model: String?

    public init(name: String, upstream: String = "default", weight: Double, model: String? = nil) {
        self.name = name
        self.upstream = upstream
        self.weight = weight
        self.model = model
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, upstream, weight, model
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        upstream = try c.decode(.upstream, default: "default")
        weight = try c.decode(Double.self, forKey: .weight)
        model = try c.decodeIfPresent(String.self, forKey: .model)
    }

    /// The weight in basis points (1/100 of a percent), what assignment works with.
    public var basisPoints: Int { Int((weight * 100).rounded()) }
}
