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
        digest = Self.bytes(hex: config.keySHA256)
        models = Set(config.models)
        routes = Set(config.routes)
        maxTokens = config.maxTokens
        maxTokensMode = config.maxTokensMode
        limits = config.limits
    }

    public func allows(route: String) -> Bool {
        routes.isEmpty || routes.contains(route)
    }

    /// Validated hex (`ClientKeyConfig.validate`) to bytes.
    static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var high: UInt8?
        for byte in hex.utf8 {
            let nibble = byte <= 0x39 ? byte &- 0x30 : (byte | 0x20) &- 0x61 &+ 10
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }
}
