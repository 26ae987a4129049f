import RepriseCore

/// The routing state requests read and the guard, the admin endpoints, the Redis poll and a
/// reload change: replaced or mutated under `RoutingRuntime`'s lock only.
struct RoutingSnapshot {
    var config: RoutingConfig
    var table: RoutingTable
    var board: FlagBoard
    var guards: [RollbackGuardStateMachine]
    /// Bumped per reload, so a request routed under an older table does not feed a new guard.
    var generation: Int
    /// Each route's variants' upstreams, by route and variant index (`RoutingRuntime` fills it:
    /// the upstreams are its).
    var targets: [[UpstreamTargets]] = []

    init(config: RoutingConfig, previous: RoutingSnapshot?) {
        self.config = config
        table = RoutingTable(config)
        board = FlagBoard(table: table, carryingOver: previous?.board)
        guards = table.routes.map { RollbackGuardStateMachine(config: $0.rollbackGuard, variantCount: $0.variants.count) }
        generation = (previous?.generation ?? 0) + 1
        // A variant the guard had turned off stays off across a reload: its new guard starts tripped.
        for (routeIndex, route) in board.routes.enumerated() {
            for (variantIndex, flag) in route.variants.enumerated() where flag.guardTripped {
                guards[routeIndex].markTripped(variant: variantIndex)
            }
        }
    }
}
