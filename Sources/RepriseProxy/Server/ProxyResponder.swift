import Logging
import NIOCore
import NIOHTTP1
import RepriseCore

/// Routes a complete request: Reprise's own endpoints first, then the cache, then the upstream.
final class ProxyResponder: RequestResponder, Sendable {
    /// Each request's route, variant and upstream (`routing:`; `upstream:` when none matches).
    private let routing: RoutingRuntime
    private let state: ServerState
    private let logger: Logger
    private let cacheConfig: CacheConfig
    private let cachePaths: CacheablePaths
    private let cacheGetPaths: CacheableGetPaths
    private let cache: ResponseCache
    private let keyBuilders: CacheKeyBuilders
    private let admin: AdminEndpoints
    /// Coalescing of identical misses; nil when `coalescing.enabled` is false.
    private let flights: FlightRegistry?
    /// `GET metrics.path` on this listener; nil when metrics are off or on their own listener.
    private let metricsEndpoint: MetricsEndpoint?
    /// `auth.mode: keys`; nil in passthrough.
    private let access: AccessControl?
    /// `limits:`; nil when no limit is set.
    private let limiter: RequestLimiter?

    init(
        routing: RoutingRuntime, flagStore: FlagStore?, cache: ResponseCache, keyBuilders: CacheKeyBuilders, config: RepriseConfig,
        state: ServerState, metricsEndpoint: MetricsEndpoint?, access: AccessControl? = nil, limiter: RequestLimiter? = nil, logger: Logger
    ) {
        self.access = access
        self.limiter = limiter
        self.metricsEndpoint = metricsEndpoint
        self.routing = routing
        self.state = state
        self.logger = logger
        self.cacheConfig = config.cache
        self.cachePaths = CacheablePaths(config.cache.paths)
        self.cacheGetPaths = config.cache.cacheableGetPaths
        self.cache = cache
        self.keyBuilders = keyBuilders
        self.admin = AdminEndpoints(token: config.admin.token, cache: cache, flags: FlagEndpoints(routing: routing, store: flagStore))
        self.flights = config.coalescing.enabled ? FlightRegistry(config: config.coalescing) : nil
    }

    func respond(to request: ProxyRequest, writer: ResponseWriter) {
        if request.head.method == .GET || request.head.method == .HEAD {
            if HealthEndpoints.respond(to: request, writer: writer, state: state) { return }
            if let metricsEndpoint, request.path == metricsEndpoint.path {
                metricsEndpoint.respond(writer: writer)
                return
            }
        }
        // Bytes, not Characters: `Substring.hasPrefix` compares grapheme by grapheme.
        if request.head.uri.utf8.starts(with: "/admin/".utf8) {
            writer.countInProgress(on: writer.record.route)
            admin.respond(to: request, writer: writer)
            return
        }
        // Normalized once: the route, the path match and the generation rule need it. The route
        // is chosen on the request as the client sent it (its own credential makes it sticky),
        // before access control replaces the credential; a key's `routes` are checked on it.
        let normalizedPath = CachePath.normalize(request.head.uri)
        let route = routing.route(request, normalizedPath: normalizedPath)
        writer.countInProgress(on: route.route)
        if let position = route.position {
            writer.record.variant = route.variant
            writer.record.variantLine = route.variantLine
            writer.routed = (routing, position)
        }
        guard access != nil || limiter != nil else { return serveAPI(request, normalizedPath: normalizedPath, route: route, writer: writer) }
        var request = request
        var key: ClientKey?
        if let access {
            guard case .admitted(let admittedKey) = access.admit(&request, writer: writer) else { return }
            key = admittedKey
        }
        guard let limiter else { return serveAPI(request, normalizedPath: normalizedPath, route: route, writer: writer) }
        if limiter.config.exemptCacheHits {
            // Checked when the request turns out to go upstream: a hit is served uncounted.
            writer.deferredAdmission = (limiter, key)
            serveAPI(request, normalizedPath: normalizedPath, route: route, writer: writer)
        } else {
            limiter.admit(request, key: key, writer: writer) { [self] in serveAPI(request, normalizedPath: normalizedPath, route: route, writer: writer) }
        }
    }

    /// An API request once access control admitted it: the cache, then the upstream.
    private func serveAPI(_ request: ProxyRequest, normalizedPath: String, route: RequestRoute, writer: ResponseWriter) {
        if cacheConfig.enabled, request.head.method == .POST {
            if cachePaths.contains(normalizedPath: normalizedPath) {
                serveCacheable(request, normalizedPath: normalizedPath, route: route, writer: writer)
                return
            }
        } else if cacheConfig.enabled, request.head.method == .GET, !cacheGetPaths.isEmpty {
            if cacheGetPaths.contains(normalizedPath: normalizedPath) {
                serveCacheableGet(request, normalizedPath: normalizedPath, route: route, writer: writer)
                return
            }
        }
        forward(request, route: route, writer: writer, cacheStatus: .bypass, tee: nil)
    }

    /// The request's tenant namespace, or nil when the request must bypass the cache: no tenant
    /// named, and an answer stored for one such client would reach every other without the
    /// upstream seeing them (`cache.anonymous`).
    ///
    /// Responses API answers are per credential whatever `cache.namespace` says (a response id
    /// is the upstream account's: `global` or `header:NAME` would hand it to another account).
    private func tenantNamespace(of request: ProxyRequest, normalizedPath: String, builder: CacheKeyBuilder) -> String? {
        if let tenant = request.tenant { return tenant }
        let headers = request.head.headers
        let mode = CachePath.isResponses(normalizedPath: normalizedPath) ? .credential : cacheConfig.namespace
        // The last request's namespace when its lines were these (read in place); else only the
        // lines the namespace reads (most requests: `Authorization`) become Strings.
        let namespace: String
        if let known = builder.rememberedNamespace(mode: mode, lines: { line in
            headers.forEachLine { name, value in if mode.reads(headerNamed: name) { line(name, value) } }
        }) {
            namespace = known
        } else {
            namespace = builder.namespace(mode: mode) { visit in
                headers.forEach(whereName: { mode.reads(headerNamed: $0) }, visit)
            }
            builder.rememberNamespace(namespace, mode: mode)
        }
        if cacheConfig.anonymous == .bypass, NamespaceMode.isAnonymous(namespace) { return nil }
        return namespace
    }

    /// A `POST` on a cacheable path: keyed by its canonical JSON body.
    private func serveCacheable(_ request: ProxyRequest, normalizedPath: String, route: RequestRoute, writer: ResponseWriter) {
        let builder = keyBuilders.builder(on: writer.eventLoop)
        guard let namespace = tenantNamespace(of: request, normalizedPath: normalizedPath, builder: builder) else {
            forward(request, route: route, writer: writer, cacheStatus: .bypass, tee: nil)
            return
        }
        let scope = CacheScope(
            namespace: namespace, route: route.route, variant: route.variant, method: "POST",
            normalizedPath: normalizedPath, query: CachePath.queryString(of: request.head.uri)
        )
        let keyed: CacheKeyResult
        do {
            keyed = try builder.key(scope: scope, body: request.body?.readableBytesView ?? ByteBuffer().readableBytesView)
            writer.record.model = keyed.facts.model
        } catch {
            // Not JSON, or JSON we refuse to key: the upstream gives the answer (and the error).
            forward(request, route: route, writer: writer, cacheStatus: .bypass, tee: nil)
            return
        }
        serve(request, route: route, keyed: keyed, policy: cacheConfig.policy, generation: CachePath.isGeneration(normalizedPath: normalizedPath), writer: writer)
    }

    /// A `GET` on a `cache.get_paths` path (model lists): keyed by tenant, path and query,
    /// stored for `cache.get_ttl`.
    private func serveCacheableGet(_ request: ProxyRequest, normalizedPath: String, route: RequestRoute, writer: ResponseWriter) {
        // A GET with a body is not a model-list request: the upstream decides what it means.
        let builder = keyBuilders.builder(on: writer.eventLoop)
        guard (request.body?.readableBytes ?? 0) == 0, let namespace = tenantNamespace(of: request, normalizedPath: normalizedPath, builder: builder) else {
            forward(request, route: route, writer: writer, cacheStatus: .bypass, tee: nil)
            return
        }
        let scope = CacheScope(
            namespace: namespace, route: route.route, variant: route.variant, method: "GET",
            normalizedPath: normalizedPath, query: CachePath.queryString(of: request.head.uri)
        )
        let keyed = CacheKeyResult(key: builder.key(bodilessScope: scope), facts: RequestFacts())
        serve(request, route: route, keyed: keyed, policy: cacheConfig.getPolicy, generation: false, writer: writer)
    }

    /// Decision, lookup; a hit is written from the stored bytes, a miss goes upstream with a
    /// tee that stores the answer.
    private func serve(_ request: ProxyRequest, route: RequestRoute, keyed: CacheKeyResult, policy: CachePolicy, generation: Bool, writer: ResponseWriter) {
        let headers = request.head.headers
        let decision = CacheDecision.decide(
            policy: policy,
            // Most requests carry none: skip building the list of its values.
            cacheControl: headers.contains(name: "cache-control") ? CacheControlDirectives(parsing: headers["cache-control"]) : CacheControlDirectives(),
            ttlHeader: headers.first(name: "x-reprise-cache-ttl"),
            facts: keyed.facts,
            generation: generation
        )
        if decision.isBypass {
            forward(request, route: route, writer: writer, cacheStatus: .bypass, tee: nil)
            return
        }
        if decision.lookup, let answer = cache.lookupMemory(keyed.key), serveIfAcceptable(answer, decision: decision, facts: keyed.facts, writer: writer) {
            return
        }
        let tee = decision.store ? CacheTee(key: keyed.key, ttlSeconds: decision.ttlSeconds, cache: cache) : nil
        guard decision.lookup, cache.hasRedis else {
            forwardMiss(request, route: route, key: keyed.key, facts: keyed.facts, decision: decision, writer: writer, tee: tee)
            return
        }
        cache.lookupRedis(keyed.key, on: writer.eventLoop).assumeIsolated().whenSuccess { [self] answer in
            guard !writer.clientGone else { return }
            if let answer, serveIfAcceptable(answer, decision: decision, facts: keyed.facts, writer: writer) {
                return
            }
            forwardMiss(request, route: route, key: keyed.key, facts: keyed.facts, decision: decision, writer: writer, tee: tee)
        }
    }

    /// A miss goes upstream once per key at a time: identical requests in the meantime join
    /// the flight in progress (`X-Cache: COALESCED`) instead of calling the upstream again.
    private func forwardMiss(
        _ request: ProxyRequest, route: RequestRoute, key: CacheKey, facts: RequestFacts, decision: CacheDecision, writer: ResponseWriter,
        tee: CacheTee?
    ) {
        writer.admitDeferred(request) { [self] in
            forwardAdmittedMiss(request, route: route, key: key, facts: facts, decision: decision, writer: writer, tee: tee)
        }
    }

    private func forwardAdmittedMiss(
        _ request: ProxyRequest, route: RequestRoute, key: CacheKey, facts: RequestFacts, decision: CacheDecision, writer: ResponseWriter,
        tee: CacheTee?
    ) {
        let shape: ReplayShape = facts.stream ? .stream(includeUsage: facts.includeUsage) : .json
        guard let flights, decision.lookup else {
            forward(request, route: route, writer: writer, cacheStatus: .miss, tee: tee)
            return
        }
        let role = flights.joinOrLead(key) {
            Flight(leaderLoop: writer.eventLoop, leaderShape: shape, maxEntryBytes: cache.maxEntryBytes)
        }
        switch role {
        case .follower(let flight):
            writer.record.cache = .coalesced
            writer.record.upstreamStartedAt = .now()
            // Handed back when the flight cannot serve this shape (answer too large to buffer, broken).
            flight.join(writer: writer, shape: shape) { [self] in forward(request, route: route, writer: writer, cacheStatus: .miss, tee: tee) }
        case .leader(let flight):
            UpstreamExchange(
                request: route.upstreamRequest(request), writer: writer, targets: route.targets, cacheStatus: .miss, tee: tee,
                flight: flight, onLanded: { flights.land(key, flight: flight) }
            ).start()
        case .alone:
            forward(request, route: route, writer: writer, cacheStatus: .miss, tee: tee)
        }
    }

    /// Serves `answer` when the request's `max-age` accepts its age and its shape converts.
    private func serveIfAcceptable(_ answer: some ReplayableAnswer, decision: CacheDecision, facts: RequestFacts, writer: ResponseWriter) -> Bool {
        let age = answer.ageSeconds(nowMs: ResponseCache.nowMs())
        return decision.accepts(ageSeconds: age) && replay(answer, age: age, facts: facts, writer: writer)
    }

    /// Writes a stored answer in the shape the request asked for; false when the stored answer
    /// cannot be converted to that shape (then the request is treated as a miss).
    private func replay(_ answer: some ReplayableAnswer, age: Int, facts: RequestFacts, writer: ResponseWriter) -> Bool {
        let shape: ReplayShape = facts.stream ? .stream(includeUsage: facts.includeUsage) : .json
        do {
            let encoded = try answer.replayBytes(for: shape)
            writer.record.cache = .hit
            writer.record.usage = answer.usage
            writer.sendStored(status: answer.status, head: encoded.head, ageSeconds: age, body: encoded.body)
            return true
        } catch {
            logger.warning("stored answer cannot be replayed in the requested shape", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func forward(_ request: ProxyRequest, route: RequestRoute, writer: ResponseWriter, cacheStatus: CacheStatus, tee: CacheTee?) {
        writer.admitDeferred(request) { [self] in forwardAdmitted(request, route: route, writer: writer, cacheStatus: cacheStatus, tee: tee) }
    }

    private func forwardAdmitted(_ request: ProxyRequest, route: RequestRoute, writer: ResponseWriter, cacheStatus: CacheStatus, tee: CacheTee?) {
        if writer.record.model == nil, writer.observer != nil, let body = request.body, body.readableBytes > 0,
           request.head.headers.first(name: "content-type")?.lowercased().hasPrefix("application/json") ?? true {
            writer.record.model = RequestModel.read(body: Array(body.readableBytesView))
        }
        UpstreamExchange(request: route.upstreamRequest(request), writer: writer, targets: route.targets, cacheStatus: cacheStatus, tee: tee).start()
    }
}
