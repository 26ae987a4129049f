import Testing
@testable import RepriseCore

@Suite("Flag board")
struct FlagBoardTests {
    func table(canaryWeight: Double = 10) -> RoutingTable {
        var config = RoutingConfig()
        config.routes = [RouteConfig(name: "chat", variants: [
            VariantConfig(name: "stable", weight: 100 - canaryWeight),
            VariantConfig(name: "canary", upstream: "canary", weight: canaryWeight),
        ])]
        return RoutingTable(config)
    }

    @Test func configThenOverrideThenGuard() {
        var board = FlagBoard(table: table())
        #expect(board.routes[0].effective == [9000, 1000])
        #expect(board.routes[0].variants[1].source == .config)
        board.setOverride(FlagOverride(origin: .admin, basisPoints: 2000), route: 0, variant: 1)
        #expect(board.routes[0].effective == [8000, 2000])
        #expect(board.routes[0].variants[1].source == .redis)
        board.setGuardTripped(true, route: 0, variant: 1)
        #expect(board.routes[0].effective == [10_000, 0])
        #expect(board.routes[0].variants[1].source == .guardTrip)
        board.setGuardTripped(false, route: 0, variant: 1)
        board.setOverride(nil, route: 0, variant: 1)
        #expect(board.routes[0].effective == [9000, 1000])
    }

    @Test func storedOverridesApplyAndDisappear() {
        var board = FlagBoard(table: table())
        #expect(board.apply(stored: ["chat/canary": FlagOverride(origin: .admin, basisPoints: 0), "other/x": FlagOverride(origin: .admin, basisPoints: 1)]).isEmpty)
        #expect(board.routes[0].effective == [10_000, 0])
        #expect(board.apply(stored: [:]).isEmpty)
        #expect(board.routes[0].effective == [9000, 1000])
    }

    /// Another instance's guard stored `guard:0`: this one follows. An operator's reset (the
    /// field removed) resets a local trip too, but only once the guard override had been seen:
    /// a trip not yet stored is not undone by a poll that predates it.
    @Test func aRemovedGuardOverrideResetsTheLocalTrip() {
        var board = FlagBoard(table: table())
        board.setGuardTripped(true, route: 0, variant: 1)
        #expect(board.apply(stored: [:]).isEmpty)
        #expect(board.routes[0].variants[1].guardTripped)
        #expect(board.apply(stored: ["chat/canary": FlagOverride(origin: .guardTrip, basisPoints: 0)]).isEmpty)
        let resets = board.apply(stored: [:])
        #expect(resets.count == 1 && resets[0].route == 0 && resets[0].variant == 1)
        #expect(!board.routes[0].variants[1].guardTripped)
        #expect(board.routes[0].effective == [9000, 1000])
    }

    @Test func anotherInstancesGuardTurnsTheVariantOffHere() {
        var board = FlagBoard(table: table())
        _ = board.apply(stored: ["chat/canary": FlagOverride(origin: .guardTrip, basisPoints: 0)])
        #expect(board.routes[0].effective == [10_000, 0])
        #expect(board.routes[0].variants[1].source == .guardTrip)
    }

    @Test func aReloadKeepsOverridesAndTripsOfVariantsStillThere() {
        var board = FlagBoard(table: table())
        board.setOverride(FlagOverride(origin: .admin, basisPoints: 500), route: 0, variant: 1)
        let reloaded = FlagBoard(table: table(canaryWeight: 30), carryingOver: board)
        #expect(reloaded.routes[0].variants[1].configured == 3000)
        #expect(reloaded.routes[0].effective == [9500, 500])
    }

    @Test func overridesRoundTripThroughTheirStoredForm() {
        let override = FlagOverride(origin: .guardTrip, basisPoints: 0)
        #expect(override.encoded == "guard:0")
        #expect(FlagOverride(encoded: "guard:0") == override)
        #expect(FlagOverride(encoded: "admin:2500") == FlagOverride(origin: .admin, basisPoints: 2500))
        for bad in ["", "admin", "admin:", "admin:x", "admin:10001", "root:5", "admin:-1"] {
            #expect(FlagOverride(encoded: bad) == nil, "\(bad)")
        }
    }

    @Test func aForcedVariantWinsOverTheBucket() {
        let table = table()
        let board = FlagBoard(table: table)
        let flags = board.routes[0]
        #expect(VariantChoice.choose(route: table.routes[0], flags: flags, bucket: 9999, forcedVariant: nil) == VariantChoice(variant: 0, source: .config))
        #expect(VariantChoice.choose(route: table.routes[0], flags: flags, bucket: 0, forcedVariant: nil) == VariantChoice(variant: 1, source: .config))
        #expect(VariantChoice.choose(route: table.routes[0], flags: flags, bucket: 9999, forcedVariant: "canary") == VariantChoice(variant: 1, source: .header))
        #expect(VariantChoice.choose(route: table.routes[0], flags: flags, bucket: 9999, forcedVariant: "nope") == VariantChoice(variant: 0, source: .config))
    }
}
