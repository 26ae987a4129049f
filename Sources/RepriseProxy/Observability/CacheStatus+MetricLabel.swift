import RepriseCore

extension CacheStatus {
    /// The `cache` label: `hit`, `miss`, `bypass`, `coalesced`.
    var metricLabel: String {
        switch self {
        case .hit: "hit"
        case .miss: "miss"
        case .bypass: "bypass"
        case .coalesced: "coalesced"
        }
    }
}
