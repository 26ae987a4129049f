/// What the cache does with a request that names no tenant (`cache.anonymous`): no credential
/// under `namespace: credential`, or no `NAME` header under `namespace: header:NAME`.
public enum AnonymousPolicy: String, Sendable, Equatable, CaseIterable {
    /// Neither looked up nor stored (`X-Cache: BYPASS`), the default: the upstream decides
    /// whether such a request gets an answer, and an answer stored for one anonymous client
    /// would be served to every other without the upstream ever seeing them.
    case bypass
    /// Everyone without a credential shares the `anonymous` namespace (for an upstream that
    /// needs no credential, where all clients are one tenant anyway).
    case cache
}
