import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import RepriseCore

/// The routing of a running server: picks each request's route and variant, feeds the rollback
/// guards, and takes the changes of a reload, of the admin endpoints and of the Redis poll.
///
/// The decisions are RepriseCore's (`RoutingTable`, `VariantChoice`, `FlagBoard`,
/// `RollbackGuardStateMachine`); this class holds their state under one lock and does the
/// logging, metrics and store writes they ask for, outside it.
final class RoutingRuntime: Sendable {
    /// Every upstream a variant may name, built at start (`default` is `upstream:`).
    let upstreams: [String: UpstreamTargets]
    private let defaultTargets: UpstreamTargets
    private let snapshot: NIOLockedValueBox<RoutingSnapshot>
    private let metrics: ProxyMetrics?
    private let logger: Logger
    /// Where a guard trip is stored for the fleet (set once the Redis flag store exists).
    /// Per event-loop thread: the last sticky bucket (`bucket`). Unchecked: each value is only
    /// ever seen by the thread that made it.
    nonisolated(unsafe) private let lastBucket = ThreadSpecificVariable<BucketMemo>()
    private let tripStore = NIOLockedValueBox<(@Sendable (_ route: String, _ variant: String) -> Void)?>(nil)

    init(config: RoutingConfig, upstreams: [String: UpstreamTargets], metrics: ProxyMetrics?, logger: Logger) {
        self.upstreams = upstreams
        self.defaultTargets = upstreams["default"]!
        self.snapshot = NIOLockedValueBox(Self.resolved(RoutingSnapshot(config: config, previous: nil), upstreams: upstreams))
        self.metrics = metrics
        self.logger = logger
    }

    /// `snapshot` with each variant's upstream looked up once (a reload checked they exist).
    private static func resolved(_ snapshot: RoutingSnapshot, upstreams: [String: UpstreamTargets]) -> RoutingSnapshot {
        var snapshot = snapshot
        let fallback = upstreams["default"]!
        snapshot.targets = snapshot.table.routes.map { route in route.variants.map { upstreams[$0.upstream] ?? fallback } }
        return snapshot
    }

    func onGuardTrip(store: @escaping @Sendable (_ route: String, _ variant: String) -> Void) {
        tripStore.withLockedValue { $0 = store }
    }

    // MARK: Requests

    /// The route of a request (`normalizedPath` from `CachePath.normalize`).
    func route(_ request: ProxyRequest, normalizedPath: String) -> RequestRoute {
        let (table, board, generation, targets) = snapshot.withLockedValue { ($0.table, $0.board, $0.generation, $0.targets) }
        guard !table.isEmpty else { return .unrouted(defaultTargets) }
        // Copied out of the buffer only when a model or a body user is read from it.
        let body = table.readsBody ? request.body.map { Array($0.readableBytesView) } : nil
        let model = table.matchesModels ? body.flatMap(RequestModel.read(body:)) : nil
        guard let routeIndex = table.match(normalizedPath: normalizedPath, model: model) else { return .unrouted(defaultTargets) }
        let route = table.routes[routeIndex]
        let headers = request.head.headers
        let choice = VariantChoice.choose(
            route: route, flags: board.routes[routeIndex], bucket: bucket(route: route, headers: headers, body: body),
            forcedVariant: forcedVariant(headers, table: table))
        let variant = route.variants[choice.variant]
        return RequestRoute(
            route: route.name, variant: variant.name, targets: targets[routeIndex][choice.variant], model: variant.model,
            position: .init(generation: generation, route: routeIndex, variant: choice.variant), variantLine: route.variantLines[choice.variant])
    }

    /// The sticky bucket of the request's identity; a request without one gets a random
    /// bucket (weights hold, stickiness cannot).
    private func bucket(route: RoutingTable.Route, headers: RequestHeaders, body: [UInt8]?) -> Int {
        let identity: Substring?
        if route.sticky == .credential {
            // The usual identity, read here without a visitor closure per header; the bucket of
            // the header value this thread saw last is remembered (a client sends the same
            // credential request after request), compared with the header's bytes in place:
            // Strings are made only for another value (a credential is longer than a small
            // string, so each is an allocation).
            let memo = lastBucket.currentValue
            let found = headers.withFirstLine(whereName: Self.isCredentialName) { name, value -> CredentialLookup in
                if let memo, memo.route == route.name, ConstantTime.equals(memo.headerValue, value) {
                    return .remembered(memo.bucket)  // another client's key: no timing hint
                }
                return .header(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
            }
            let header: (name: String, value: String)
            switch found {
            case nil: return Int.random(in: 0 ..< VariantAssignment.bucketCount)
            case .remembered(let bucket)?: return bucket
            case .header(let name, let value)?: header = (name, value)
            }
            identity = ForcedVariantCredentials.credential(headerName: header.name, value: header.value)
            if let identity, !identity.isEmpty {
                let bucket = StickyBucket.bucket(route: route.name, identity: identity)
                lastBucket.currentValue = BucketMemo(route: route.name, headerValue: header.value, bucket: bucket)
                return bucket
            }
        } else {
            identity = route.sticky.identity(forEachHeader: { visit in
                for header in headers { visit(header.name, header.value) }
            }, body: body)
        }
        guard let identity, !identity.isEmpty else { return Int.random(in: 0 ..< VariantAssignment.bucketCount) }
        return StickyBucket.bucket(route: route.name, identity: identity)
    }

    /// The sticky bucket a thread computed last, by route and credential header value.
    final class BucketMemo {
        let route: String
        let headerValue: String
        let bucket: Int

        init(route: String, headerValue: String, bucket: Int) {
            self.route = route
            self.headerValue = headerValue
            self.bucket = bucket
        }
    }

    /// `Authorization` (13 bytes), `api-key` (7), `x-api-key` (9): a length test that turns most
    /// headers away before the name is compared.
    private static func mayBeCredential(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let length = name.count
        return length == 13 || length == 7 || length == 9
    }

    /// The first header `ForcedVariantCredentials.credential` reads (`Authorization`, `api-key`,
    /// `x-api-key`), over the request's headers directly: the request's credential is in it.
    static func credentialHeader(in headers: RequestHeaders) -> (name: String, value: String)? {
        // On the names' bytes: only the credential line becomes Strings.
        headers.first(whereName: isCredentialName)
    }

    private static func isCredentialName(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        mayBeCredential(name) && ForcedVariantCredentials.isCredential(headerName: name)
    }

    /// What the credential header told the sticky bucket: this thread's remembered bucket (the
    /// same value as last time), or the header to compute it from.
    private enum CredentialLookup {
        case remembered(Int)
        case header(name: String, value: String)
    }

    /// The API key of the request's credential header.
    static func credential(in headers: RequestHeaders) -> Substring? {
        credentialHeader(in: headers).flatMap { ForcedVariantCredentials.credential(headerName: $0.name, value: $0.value) }
    }

    /// The `X-Reprise-Variant` the request may force: only from a configured credential.
    private func forcedVariant(_ headers: RequestHeaders, table: RoutingTable) -> String? {
        // The table first: without configured credentials no request can force a variant, and
        // the header search is not made.
        guard !table.forcedVariantCredentials.isEmpty, let asked = headers.first(name: "x-reprise-variant"),
              let credential = Self.credential(in: headers),
              table.forcedVariantCredentials.allows(credential: String(credential)) else { return nil }
        return asked
    }

    /// A routed request ended: its outcome goes to its route's rollback guard. Answers from the
    /// cache and coalesced ones never reached the variant's upstream; a client that left says
    /// nothing about it.
    func requestEnded(_ position: RequestRoute.Position, record: RequestRecord) {
        guard record.cache != .hit, record.cache != .coalesced, record.outcome != .clientGone else { return }
        let isError = record.status >= 500 || record.outcome == .aborted
        let now = NIODeadline.now().uptimeNanoseconds
        let latency = record.firstByteAt.map { UInt64(max(0, ($0 - record.receivedAt).nanoseconds)) }
        let tripped = snapshot.withLockedValue { state -> (route: String, variant: String, evidence: RollbackGuardStateMachine.Evidence)? in
            guard state.generation == position.generation else { return nil }
            guard case .trip(let variant, let evidence) = state.guards[position.route].requestEnded(
                variant: position.variant, isError: isError, latencyNanoseconds: latency, now: now) else { return nil }
            state.board.setGuardTripped(true, route: position.route, variant: variant)
            let route = state.table.routes[position.route]
            return (route.name, route.variants[variant].name, evidence)
        }
        guard let tripped else { return }
        logger.error("rollback guard tripped: variant turned off (0%) until reset with DELETE /admin/flags/\(tripped.route)/\(tripped.variant)",
                     metadata: ["route": "\(tripped.route)", "variant": "\(tripped.variant)", "evidence": "\(tripped.evidence)"])
        metrics?.rollbackGuardTripped(route: tripped.route, variant: tripped.variant)
        tripStore.withLockedValue { $0 }?(tripped.route, tripped.variant)
    }

    // MARK: Reload, admin, store

    /// Applies a new `routing:` section to new requests; throws (and keeps the current one) when
    /// a variant names an upstream this process did not start with.
    func reload(_ config: RoutingConfig) throws(ConfigFileError) {
        var problems: [ConfigError] = []
        for (routeIndex, route) in config.routes.enumerated() {
            for (variantIndex, variant) in route.variants.enumerated() where upstreams[variant.upstream] == nil {
                problems.append(ConfigError(keyPath: "routing.routes[\(routeIndex)].variants[\(variantIndex)].upstream",
                                            "'\(variant.upstream)' was not an upstream at start (upstreams: needs a restart)"))
            }
        }
        guard problems.isEmpty else { throw ConfigFileError(file: "configuration", problems: problems) }
        snapshot.withLockedValue { $0 = Self.resolved(RoutingSnapshot(config: config, previous: $0), upstreams: upstreams) }
    }

    enum FlagError: Error, Equatable {
        case unknownVariant
    }

    /// The position of `route`/`variant`, for the admin endpoints.
    func contains(route: String, variant: String) -> Bool {
        snapshot.withLockedValue { $0.board.index(route: route, variant: variant) != nil }
    }

    /// An operator's override (nil: removed), applied here at once; the store spreads it.
    func setOverride(_ override: FlagOverride?, route: String, variant: String) throws(FlagError) {
        let found = snapshot.withLockedValue { state in
            guard let index = state.board.index(route: route, variant: variant) else { return false }
            state.board.setOverride(override, route: index.route, variant: index.variant)
            return true
        }
        guard found else { throw .unknownVariant }
    }

    /// An operator's reset: the guard watches the variant again, from an empty window.
    func resetGuard(route: String, variant: String) throws(FlagError) {
        let wasTripped = snapshot.withLockedValue { state -> Bool? in
            guard let index = state.board.index(route: route, variant: variant) else { return nil }
            let wasTripped = state.guards[index.route].isTripped(variant: index.variant)
            state.guards[index.route].reset(variant: index.variant)
            state.board.setGuardTripped(false, route: index.route, variant: index.variant)
            return wasTripped
        }
        guard let wasTripped else { throw .unknownVariant }
        if wasTripped { logger.notice("rollback guard reset", metadata: ["route": "\(route)", "variant": "\(variant)"]) }
    }

    /// The overrides the Redis poll read (every field of the hash).
    func applyStored(_ stored: [String: FlagOverride]) {
        let resets = snapshot.withLockedValue { state -> [(String, String)] in
            let resets = state.board.apply(stored: stored)
            return resets.map { reset in
                state.guards[reset.route].reset(variant: reset.variant)
                let route = state.table.routes[reset.route]
                return (route.name, route.variants[reset.variant].name)
            }
        }
        for (route, variant) in resets {
            logger.notice("rollback guard reset by another instance (its override was removed)", metadata: ["route": "\(route)", "variant": "\(variant)"])
        }
    }

    /// The flags as they are now.
    var board: FlagBoard { snapshot.withLockedValue { $0.board } }

    var guardStates: [[RollbackGuardStateMachine.State]] { snapshot.withLockedValue { $0.guards.map(\.states) } }

    var config: RoutingConfig { snapshot.withLockedValue { $0.config } }

    /// `(route, variant, percent)` served now, for `llm_variant_weight`.
    var variantWeights: [(route: String, variant: String, percent: Double)] {
        board.routes.flatMap { route in
            zip(route.variants, route.effective).map { (route.name, $0.name, Double($1) / 100) }
        }
    }
}
