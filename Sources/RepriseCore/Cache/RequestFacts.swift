/// What cache policy needs from a request body, extracted while canonicalizing it (top level only).
public struct RequestFacts: Sendable, Equatable {
    /// `"stream": true` at top level.
    public var stream: Bool = false
    /// The top-level `"model"` string, if any.
    public var model: String?
    /// Top-level `temperature` / `top_p` (parsed from their canonical decimal text).
    public var temperature: Double?
    public var topP: Double?
    /// Top-level `n` when it is an integer.
    public var n: Int?
    /// `stream_options.include_usage == true`.
    public var includeUsage: Bool = false

    public init() {}

    /// The sampling temperature the upstream applies when the request leaves it out: OpenAI and
    /// DeepSeek both document 1.
    public static let upstreamDefaultTemperature = 1.0

    /// Whether the answer of a generation request may vary between identical calls: the effective
    /// temperature (absent counts as the upstream default, 1) is above 0. `top_p` and `n` do not
    /// change this: with temperature 0 the sampling is greedy whatever they say.
    /// Embeddings (`generation == false`) are deterministic.
    public func isNonDeterministic(generation: Bool) -> Bool {
        guard generation else { return false }
        return (temperature ?? Self.upstreamDefaultTemperature) > 0
    }
}
