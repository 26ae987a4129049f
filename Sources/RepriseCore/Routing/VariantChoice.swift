/// The variant a request is served by, and why.
public struct VariantChoice: Sendable, Equatable {
    public var variant: Int
    /// `.header` when the request forced it, else where the weights came from.
    public var source: FlagSource

    public init(variant: Int, source: FlagSource) {
        self.variant = variant
        self.source = source
    }

    /// A forced variant (an allowed credential's `X-Reprise-Variant` naming one of the route's)
    /// wins; otherwise the bucket decides under the effective weights.
    public static func choose(route: RoutingTable.Route, flags: FlagBoard.RouteFlags, bucket: Int, forcedVariant: String?) -> VariantChoice {
        if let forcedVariant, let index = route.variantIndex(named: forcedVariant) {
            return VariantChoice(variant: index, source: .header)
        }
        let index = VariantAssignment.variant(bucket: bucket, weights: flags.effective)
        return VariantChoice(variant: index, source: flags.variants[index].source)
    }
}
