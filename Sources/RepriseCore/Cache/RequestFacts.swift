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
    /// Top-level `conversation` present and not null (Responses API): the answer depends on the
    /// conversation's items as the server holds them now, which change with every turn.
    public var conversation: Bool = false
    /// Top-level `"background": true` (Responses API): the answer is a `queued` snapshot of a
    /// run the client polls for, not the answer itself.
    public var background: Bool = false

    public init() {}

    /// The sampling temperature the upstream applies when the request leaves it out: OpenAI and
    /// DeepSeek both document 1.
    public static let upstreamDefaultTemperature = 1.0

    /// The request depends on mutable server state (`conversation`, background mode): neither
    /// looked up nor stored (`CacheDecision.Reason.serverState`). `previous_response_id` is not
    /// such state: it names one stored response, which never changes, so the request is keyed
    /// with it like any other field (per tenant: another tenant's key never matches).
    public var dependsOnServerState: Bool { conversation || background }

    /// Whether the answer of a generation request may vary between identical calls: the effective
    /// temperature (absent counts as the upstream default, 1) is above 0. `top_p` and `n` do not
    /// change this: with temperature 0 the sampling is greedy whatever they say.
    /// Embeddings (`generation == false`) are deterministic.
    public func isNonDeterministic(generation: Bool) -> Bool {
        guard generation else { return false }
        return (temperature ?? Self.upstreamDefaultTemperature) > 0
    }
}
