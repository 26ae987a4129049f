import RepriseCrypto

/// One issued key as the proxy uses it: `ClientKeyConfig` with its digest as bytes and its
/// lists as sets.
public struct ClientKey: Sendable, Equatable {
    public let name: String
    let digest: [UInt8]
    public let models: Set<String>
    public let routes: Set<String>
    public let maxTokens: Int
    public let maxTokensMode: MaxTokensMode
    /// Limits set on the key itself (0: take `limits:`'s).
    public let limits: RateLimits

    public init(_ config: ClientKeyConfig) {
        name = config.name
        // Validated as 64 hex digits (`ClientKeyConfig.validate`).
        digest = Hex.decode(config.keySHA256.utf8) ?? []
        models = Set(config.models)
        routes = Set(config.routes)
        maxTokens = config.maxTokens
        maxTokensMode = config.maxTokensMode
        limits = config.limits
    }

    public func allows(route: String) -> Bool {
        routes.isEmpty || routes.contains(route)
    }
}
