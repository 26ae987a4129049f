/// The routes of one configuration, ready for matching: the first route whose paths and models
/// match a request serves it; a request no route matches goes to the `default` upstream as if
/// no routes were configured (route `default`, variant `primary`).
public struct RoutingTable: Sendable {
    /// A class: every routed request takes its route out of the table, and a reference is one
    /// retain where a copy of the fields was a dozen.
    public final class Route: Sendable {
        public let name: String
        /// A few paths, matched in order: a list compares a handful of short strings for less
        /// than one hash of the request's path costs (this runs on every request).
        let normalizedPaths: [String]
        let models: Set<String>
        public let sticky: StickyIdentity
        public let variants: [VariantConfig]
        public let rollbackGuard: RollbackGuardConfig

        /// Each variant's response line, `x-reprise-variant: NAME` and CRLF, encoded once.
        public let variantLines: [[UInt8]]

        init(name: String, normalizedPaths: [String], models: Set<String>, sticky: StickyIdentity, variants: [VariantConfig],
             rollbackGuard: RollbackGuardConfig) {
            self.name = name
            self.normalizedPaths = normalizedPaths
            self.models = models
            self.sticky = sticky
            self.variants = variants
            self.rollbackGuard = rollbackGuard
            variantLines = variants.map { Array("x-reprise-variant: \($0.name)\r\n".utf8) }
        }

        func matches(normalizedPath: String, model: String?) -> Bool {
            (normalizedPaths.isEmpty || normalizedPaths.contains(normalizedPath))
                && (models.isEmpty || model.map(models.contains) == true)
        }

        public func variantIndex(named name: String) -> Int? {
            variants.firstIndex { $0.name == name }
        }
    }

    public let routes: [Route]
    public let forcedVariantCredentials: ForcedVariantCredentials
    /// Some route matches on the model: the body's `model` must be read before matching.
    public let matchesModels: Bool
    /// Routing needs the request's body: a route matches on the model or sticks by its `user`.
    public let readsBody: Bool

    public init(_ config: RoutingConfig) {
        routes = config.routes.map { route in
            Route(name: route.name, normalizedPaths: Array(Set(route.paths.map { CachePath.normalize($0) })).sorted(), models: Set(route.models),
                  sticky: route.stickyBy ?? config.stickyBy, variants: route.variants, rollbackGuard: route.rollbackGuard)
        }
        forcedVariantCredentials = ForcedVariantCredentials(configured: config.forceVariantCredentials)
        matchesModels = config.routes.contains { !$0.models.isEmpty }
        readsBody = matchesModels || routes.contains { $0.sticky == .bodyUser }
    }

    public var isEmpty: Bool { routes.isEmpty }

    public func match(normalizedPath: String, model: String?) -> Int? {
        routes.firstIndex { $0.matches(normalizedPath: normalizedPath, model: model) }
    }

    public func routeIndex(named name: String) -> Int? {
        routes.firstIndex { $0.name == name }
    }
}
