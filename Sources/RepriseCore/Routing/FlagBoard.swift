/// The flags of every route: each variant's configured weight, the override stored for it
/// (Redis, or local without Redis), whether the rollback guard turned it off, and what that
/// makes the weights served (`effective`). Rebuilt when any of them changes; requests only read.
///
/// Precedence: a guard trip (local, or stored by another process's guard) over an operator's
/// override over the configuration.
public struct FlagBoard: Sendable, Equatable {
    public struct VariantFlag: Sendable, Equatable {
        public let name: String
        public let configured: Int
        public var override: FlagOverride?
        /// This process's guard tripped it.
        public var guardTripped = false
        /// A guard override was in the last poll: its disappearance is an operator's reset.
        var guardOverrideSeen = false

        /// The weight asked for (before the other variants' shares cap it).
        public var requested: Int {
            if guardTripped { return 0 }
            return override?.basisPoints ?? configured
        }

        public var source: FlagSource {
            if guardTripped || override?.origin == .guardTrip { return .guardTrip }
            return override == nil ? .config : .redis
        }
    }

    public struct RouteFlags: Sendable, Equatable {
        public let name: String
        public var variants: [VariantFlag]
        /// Basis points served per variant (`VariantAssignment.effective` of the requested ones).
        public private(set) var effective: [Int]

        init(name: String, variants: [VariantFlag]) {
            self.name = name
            self.variants = variants
            self.effective = VariantAssignment.effective(variants.map(\.requested))
        }

        mutating func recompute() {
            effective = VariantAssignment.effective(variants.map(\.requested))
        }
    }

    public private(set) var routes: [RouteFlags]

    /// A board for `table`; overrides and guard trips of `previous` carry over to the variants
    /// still there under the same route and variant names (a reload keeps a rollback in place).
    public init(table: RoutingTable, carryingOver previous: FlagBoard? = nil) {
        routes = table.routes.map { route in
            let old = previous?.routes.first { $0.name == route.name }
            return RouteFlags(name: route.name, variants: route.variants.map { variant in
                var flag = VariantFlag(name: variant.name, configured: variant.basisPoints)
                if let carried = old?.variants.first(where: { $0.name == variant.name }) {
                    flag.override = carried.override
                    flag.guardTripped = carried.guardTripped
                    flag.guardOverrideSeen = carried.guardOverrideSeen
                }
                return flag
            })
        }
    }

    public func index(route: String, variant: String) -> (route: Int, variant: Int)? {
        guard let routeIndex = routes.firstIndex(where: { $0.name == route }),
              let variantIndex = routes[routeIndex].variants.firstIndex(where: { $0.name == variant }) else { return nil }
        return (routeIndex, variantIndex)
    }

    public mutating func setOverride(_ override: FlagOverride?, route: Int, variant: Int) {
        routes[route].variants[variant].override = override
        routes[route].recompute()
    }

    public mutating func setGuardTripped(_ tripped: Bool, route: Int, variant: Int) {
        routes[route].variants[variant].guardTripped = tripped
        routes[route].recompute()
    }

    /// Applies the overrides read from the store (hash field `ROUTE/VARIANT` → override); a
    /// variant without a field has none. Returns the variants whose guard override disappeared
    /// while this process's guard had them off: an operator reset them elsewhere, so the local
    /// guard must be reset too.
    public mutating func apply(stored: [String: FlagOverride]) -> [(route: Int, variant: Int)] {
        var resets: [(route: Int, variant: Int)] = []
        for routeIndex in routes.indices {
            for variantIndex in routes[routeIndex].variants.indices {
                var flag = routes[routeIndex].variants[variantIndex]
                let override = stored[FlagOverride.field(route: routes[routeIndex].name, variant: flag.name)]
                let guardOverride = override?.origin == .guardTrip
                if flag.guardOverrideSeen, !guardOverride, flag.guardTripped {
                    flag.guardTripped = false
                    resets.append((routeIndex, variantIndex))
                }
                flag.guardOverrideSeen = guardOverride
                flag.override = override
                routes[routeIndex].variants[variantIndex] = flag
            }
            routes[routeIndex].recompute()
        }
        return resets
    }
}
