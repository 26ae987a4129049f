/// Where a variant's effective weight comes from, lowest precedence first.
public enum FlagSource: String, Sendable, Equatable, CaseIterable {
    /// The configuration file (`routing.routes[].variants[].weight`).
    case config
    /// A fleet-wide override an operator stored in Redis (`PUT /admin/flags/...`), or stored
    /// locally when no Redis is configured.
    case redis
    /// The rollback guard turned the variant off (0%) until an operator resets it.
    case guardTrip = "guard"
    /// The request named its variant (`X-Reprise-Variant`, allowed credentials only): a
    /// per-request source, never a weight.
    case header
}
