/// `auth.mode`: who may use the proxy and with which upstream credential.
public enum AuthMode: String, Sendable, Equatable, CaseIterable {
    /// Clients send the upstream's key; Reprise forwards it (today's behaviour, sidecars).
    case passthrough
    /// Clients send keys Reprise issued (`auth.keys`, `auth.keys_file`); Reprise replaces them
    /// with `auth.upstream_key` toward the upstream.
    case keys
}
