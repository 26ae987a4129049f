import NIOConcurrencyHelpers
import NIOCore
import Prometheus
import RepriseCore
import RepriseRedis

/// Every metric Reprise exports (names and labels: DESIGN.md and README's metrics table), in
/// one swift-prometheus registry served at `metrics.path`.
///
/// The request families (requests, tokens, latency, first byte, overhead, in progress) are
/// added up per event loop (`RequestMetricsShard`: one uncontended lock per request start and
/// end) and rendered at scrape time (`RequestFamilies`); other request-path updates go through
/// pre-resolved handles (`LabeledMetrics`). Figures that other components already count (the
/// memory cache's size and evictions, Redis's counters, breaker states) are read when Prometheus
/// scrapes (`refresh`), so they cost the request path nothing.
final class ProxyMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let models: ModelLabels

    /// The request families, added up per event loop (`RequestMetricsShard`) and merged at
    /// scrape time; `unboundShard` serves callers that are on no loop of the server.
    private let shards = NIOLockedValueBox<[ObjectIdentifier: RequestMetricsShard]>([:])
    private let unboundShard: RequestMetricsShard
    private let coalesced: LabeledMetrics<String, Counter>
    private let cacheOperations: LabeledMetrics<CacheOperation, Counter>
    /// The memory tier's operations, on every hit and miss: resolved once, no lookup.
    private let memoryGetHit: Counter
    private let memoryGetMiss: Counter
    private let memorySetStored: Counter
    private let upstreamAttempts: LabeledMetrics<UpstreamAttemptSeries, Counter>
    private let upstreamRetries: LabeledMetrics<String, Counter>
    private let upstreamResponses: LabeledMetrics<UpstreamResponseSeries, Counter>
    private let upstreamLatency: LabeledMetrics<String, ValueHistogram>
    private let breakerState: LabeledMetrics<String, Gauge>
    private let redisDuration: LabeledMetrics<RedisCommandName, ValueHistogram>
    private let redisErrors: LabeledMetrics<RedisErrorKind, Counter>
    /// Absent without Redis configured: an alert on `llm_redis_up == 0` must not page there.
    private let redisUp: Gauge?
    private let memoryBytes: Gauge
    private let memoryEntries: Gauge
    private let evictions: LabeledMetrics<EvictionReason, Counter>
    private let configReloads: LabeledMetrics<Bool, Counter>
    private let guardTrips: LabeledMetrics<VariantSeries, Counter>
    private let variantWeight: LabeledMetrics<VariantSeries, Gauge>
    private let accessLogDropped: Counter
    private let rejectedEntries: LabeledMetrics<EntryRejection, Counter>
    private let rateLimited: LabeledMetrics<RateLimitSeries, Counter>
    /// What the scrape-time sources had counted at the previous scrape (counters only go up).
    private let seen = NIOLockedValueBox(SeenCounts())

    static let latencyBuckets = RequestFamilies.latencyBuckets
    static let redisBuckets: [Double] = [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
    ]

    init(config: MetricsConfig, version: String, hasRedis: Bool = false) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        let models = ModelLabels(configured: config.models)
        self.models = models

        func name(_ name: String, _ help: String) -> MetricDescription {
            MetricDescription(name: name, help: help)
        }
        unboundShard = RequestMetricsShard(models: models)
        let coalescedName = name("llm_coalesced_requests_total", "Requests answered by an identical request's upstream call in flight.")
        coalesced = LabeledMetrics { route in registry.makeCounter(descriptor: coalescedName.descriptor, labels: [("route", route)]) }
        let operationsName = name("llm_cache_operations_total", "Cache operations by op (get/set/delete), backend (memory/redis) and result (hit/miss/stored/error).")
        let cacheOperations = LabeledMetrics<CacheOperation, Counter> { operation in
            registry.makeCounter(descriptor: operationsName.descriptor, labels: [
                ("op", operation.op.rawValue), ("backend", operation.backend.rawValue), ("result", operation.result.rawValue),
            ])
        }
        self.cacheOperations = cacheOperations
        memoryGetHit = cacheOperations[CacheOperation(op: .get, backend: .memory, result: .hit)]
        memoryGetMiss = cacheOperations[CacheOperation(op: .get, backend: .memory, result: .miss)]
        memorySetStored = cacheOperations[CacheOperation(op: .set, backend: .memory, result: .stored)]
        let attemptsName = name("llm_upstream_attempts_total", "Upstream attempts (retries included) by upstream and outcome.")
        upstreamAttempts = LabeledMetrics { series in
            registry.makeCounter(descriptor: attemptsName.descriptor, labels: [("upstream", series.upstream), ("outcome", series.outcome.rawValue)])
        }
        let retriesName = name("llm_upstream_retries_total", "Upstream attempts after the first of a request.")
        upstreamRetries = LabeledMetrics { upstream in registry.makeCounter(descriptor: retriesName.descriptor, labels: [("upstream", upstream)]) }
        let responsesName = name("llm_upstream_responses_total", "Upstream answers by upstream and HTTP status.")
        upstreamResponses = LabeledMetrics { series in
            registry.makeCounter(descriptor: responsesName.descriptor, labels: [("upstream", series.upstream), ("status", String(series.status))])
        }
        let upstreamLatencyName = name("llm_upstream_latency_seconds", "Upstream attempt start to the upstream's response head.")
        upstreamLatency = LabeledMetrics { upstream in
            registry.makeValueHistogram(descriptor: upstreamLatencyName.descriptor, labels: [("upstream", upstream)], buckets: Self.latencyBuckets)
        }
        let breakerName = name("llm_circuit_breaker_state", "Upstream circuit breaker: 0 closed, 1 half-open, 2 open.")
        breakerState = LabeledMetrics { upstream in registry.makeGauge(descriptor: breakerName.descriptor, labels: [("upstream", upstream)]) }
        let redisDurationName = name("llm_redis_command_duration_seconds", "Redis command round trips by command.")
        redisDuration = LabeledMetrics { command in
            registry.makeValueHistogram(descriptor: redisDurationName.descriptor, labels: [("command", command.rawValue)], buckets: Self.redisBuckets)
        }
        let redisErrorsName = name("llm_redis_errors_total", "Redis trouble by kind (timeout, connection, protocol, breaker_open: commands not sent).")
        redisErrors = LabeledMetrics { kind in registry.makeCounter(descriptor: redisErrorsName.descriptor, labels: [("kind", kind.rawValue)]) }
        redisUp = hasRedis ? registry.makeGauge(descriptor: name("llm_redis_up", "1 while Redis answers (its breaker is closed), 0 otherwise.").descriptor) : nil
        memoryBytes = registry.makeGauge(descriptor: name("llm_cache_memory_bytes", "Bytes held by the memory cache (L1).").descriptor)
        memoryEntries = registry.makeGauge(descriptor: name("llm_cache_memory_entries", "Answers held by the memory cache (L1).").descriptor)
        let evictionsName = name("llm_cache_evictions_total", "Memory cache removals by reason (capacity: least recently used, expired: TTL).")
        evictions = LabeledMetrics { reason in registry.makeCounter(descriptor: evictionsName.descriptor, labels: [("reason", reason.rawValue)]) }
        let reloadsName = name("llm_config_reloads_total", "Configuration and certificate reloads by result.")
        configReloads = LabeledMetrics { success in
            registry.makeCounter(descriptor: reloadsName.descriptor, labels: [("result", success ? "success" : "failure")])
        }
        let rejectedName = name("reprise_cache_entries_rejected_total",
                                "Stored entries treated as misses, never served: corrupt, stored under another key, or not opening with the encryption keys.")
        rejectedEntries = LabeledMetrics { reason in registry.makeCounter(descriptor: rejectedName.descriptor, labels: [("reason", reason.rawValue)]) }
        let rateLimitedName = name("llm_rate_limited_total", "Requests refused with 429 by Reprise's own limits, by route and reason (requests, tokens, concurrency).")
        rateLimited = LabeledMetrics { series in
            registry.makeCounter(descriptor: rateLimitedName.descriptor, labels: [("route", series.route), ("reason", series.reason)])
        }
        let tripsName = name("llm_rollback_guard_trips_total", "Variants the rollback guard turned off (0%), by route and variant.")
        guardTrips = LabeledMetrics { series in
            registry.makeCounter(descriptor: tripsName.descriptor, labels: [("route", series.route), ("variant", series.variant)])
        }
        let weightName = name("llm_variant_weight", "Percent of a route's traffic its variant is given now (configuration, overrides and the guard applied).")
        variantWeight = LabeledMetrics { series in
            registry.makeGauge(descriptor: weightName.descriptor, labels: [("route", series.route), ("variant", series.variant)])
        }
        accessLogDropped = registry.makeCounter(descriptor: name(
            "reprise_access_log_dropped_lines_total", "Access log lines dropped because stderr was not read fast enough.").descriptor)
        registry.makeGauge(descriptor: name("reprise_build_info", "Always 1; the version label tells which Reprise runs.").descriptor,
                           labels: [("version", version)]).set(to: 1)

        // Series that should read 0 rather than be absent before their first event, so rates
        // and alerts see them from the first scrape.
        for reason in EvictionReason.allCases { _ = evictions[reason] }
        for success in [true, false] { _ = configReloads[success] }
        for kind in RedisErrorKind.allCases { _ = redisErrors[kind] }
        for reason in EntryRejection.allCases { _ = rejectedEntries[reason] }
    }

    // MARK: Request path

    /// The shard the requests of `loop` add up in: looked up once per connection, not per request.
    func requestShard(for loop: EventLoop) -> RequestMetricsShard {
        shards.withLockedValue { shards in
            if let shard = shards[ObjectIdentifier(loop)] { return shard }
            let shard = RequestMetricsShard(models: models)
            shards[ObjectIdentifier(loop)] = shard
            return shard
        }
    }

    /// A request began on `route` (`llm_active_requests`); `shard` nil: not on a server loop.
    func requestStarted(route: String, shard: RequestMetricsShard? = nil) {
        (shard ?? unboundShard).started(route: route)
    }

    /// Everything a finished request tells; `end` is when its response ended, `startedRoute`
    /// the route `requestStarted` was told (nil when it was not).
    func requestFinished(_ record: RequestRecord, end: NIODeadline, startedRoute: String? = nil, shard: RequestMetricsShard? = nil) {
        (shard ?? unboundShard).finished(record, end: end, startedRoute: startedRoute)
        if record.cache == .coalesced { coalesced[record.route].increment() }
    }

    /// A memory-tier lookup (every cacheable request): a pre-resolved handle.
    func memoryLookup(hit: Bool) {
        (hit ? memoryGetHit : memoryGetMiss).increment()
    }

    func memoryStored() {
        memorySetStored.increment()
    }

    func cacheOperation(_ op: CacheOperation.Op, backend: CacheOperation.Backend, result: CacheOperation.Result) {
        cacheOperations[CacheOperation(op: op, backend: backend, result: result)].increment()
    }

    func upstreamAttempt(upstream: String, outcome: UpstreamAttemptOutcome, isRetry: Bool) {
        upstreamAttempts[UpstreamAttemptSeries(upstream: upstream, outcome: outcome)].increment()
        if isRetry { upstreamRetries[upstream].increment() }
    }

    func upstreamResponded(upstream: String, status: Int, after elapsed: TimeAmount) {
        upstreamResponses[UpstreamResponseSeries(upstream: upstream, status: status)].increment()
        upstreamLatency[upstream].record(Self.seconds(elapsed))
    }

    /// One Redis command's round trip (`RedisCacheStore`'s report).
    func redisCommandReported(_ report: RedisCommandReport) {
        let command: RedisCommandName = report.command == .get ? .get : .set
        redisDuration[command].record(Double(max(0, report.nanoseconds)) / 1e9)
        let op: CacheOperation.Op = report.command == .get ? .get : .set
        switch report.result {
        case .hit: cacheOperation(op, backend: .redis, result: .hit)
        case .miss: cacheOperation(op, backend: .redis, result: .miss)
        case .stored: cacheOperation(op, backend: .redis, result: .stored)
        case .failed(let error):
            cacheOperation(op, backend: .redis, result: .error)
            redisErrors[RedisErrorKind(error)].increment()
        }
    }

    func rateLimited(route: String, reason: String) {
        rateLimited[RateLimitSeries(route: route, reason: reason)].increment()
    }

    func entryRejected(_ reason: EntryRejection) {
        rejectedEntries[reason].increment()
    }

    func configReloaded(success: Bool) {
        configReloads[success].increment()
    }

    func rollbackGuardTripped(route: String, variant: String) {
        guardTrips[VariantSeries(route: route, variant: variant)].increment()
    }

    // MARK: Scrape

    /// Reads the figures other components keep, then renders every metric.
    func exposition(sources: ScrapeSources) -> ByteBuffer {
        refresh(sources)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16_384)
        registry.emit(into: &bytes)
        var families = RequestFamilies(models: models, routes: ["default"])
        families.add(unboundShard)
        for shard in shards.withLockedValue({ Array($0.values) }) { families.add(shard) }
        families.write(into: &bytes)
        return ByteBuffer(bytes: bytes)
    }

    private func refresh(_ sources: ScrapeSources) {
        if let memory = sources.memory {
            memoryBytes.set(to: Double(memory.bytes))
            memoryEntries.set(to: Double(memory.count))
        }
        var weighted: Set<VariantSeries> = []
        for weight in sources.variantWeights {
            let series = VariantSeries(route: weight.route, variant: weight.variant)
            weighted.insert(series)
            variantWeight[series].set(to: weight.percent)
            // A variant with a weight can trip: its counter reads 0 from the first scrape.
            _ = guardTrips[series]
        }
        // A variant a reload removed gets no traffic: 0, not its last weight.
        let removed = seen.withLockedValue { seen in
            defer { seen.weightedVariants = weighted }
            return seen.weightedVariants.subtracting(weighted)
        }
        for series in removed { variantWeight[series].set(to: 0) }
        for (upstream, state) in sources.breakers {
            breakerState[upstream].set(to: Double(state.gaugeValue))
        }
        if let redisUp, let state = sources.redisBreaker {
            if case .closed = state { redisUp.set(to: 1) } else { redisUp.set(to: 0) }
        }
        let (evicted, expired, skipped, droppedLines) = seen.withLockedValue { seen -> (Int, Int, Int, Int) in
            let memory = sources.memory
            let redisSkipped = sources.redisCounters.map { $0.lookupsSkippedByBreaker + $0.storesSkippedByBreaker } ?? 0
            // A purge resets nothing: `MemoryCache` keeps its counters across `removeAll`.
            let deltas = (max(0, (memory?.evictions ?? 0) - seen.evictions), max(0, (memory?.expirations ?? 0) - seen.expirations),
                          max(0, redisSkipped - seen.redisSkipped), max(0, sources.accessLogDropped - seen.accessLogDropped))
            seen = SeenCounts(evictions: memory?.evictions ?? seen.evictions, expirations: memory?.expirations ?? seen.expirations,
                              redisSkipped: max(redisSkipped, seen.redisSkipped),
                              accessLogDropped: max(sources.accessLogDropped, seen.accessLogDropped), weightedVariants: seen.weightedVariants)
            return deltas
        }
        if evicted > 0 { evictions[.capacity].increment(by: Int64(evicted)) }
        if expired > 0 { evictions[.expired].increment(by: Int64(expired)) }
        if skipped > 0 { redisErrors[.breakerOpen].increment(by: Int64(skipped)) }
        if droppedLines > 0 { accessLogDropped.increment(by: Int64(droppedLines)) }
    }

    private struct SeenCounts {
        var evictions = 0
        var expirations = 0
        var redisSkipped = 0
        var accessLogDropped = 0
        var weightedVariants: Set<VariantSeries> = []
    }

    static func seconds(_ amount: TimeAmount) -> Double {
        Double(max(0, amount.nanoseconds)) / 1e9
    }
}

/// What `/metrics` reads from other components at scrape time.
struct ScrapeSources {
    var memory: MemoryCacheStats?
    var breakers: [(upstream: String, state: CircuitState)]
    var redisBreaker: RedisBreaker.State?
    var redisCounters: RedisCacheStore.Counters?
    var accessLogDropped = 0
    /// Every routed variant's weight served now (`routing:`), in percent.
    var variantWeights: [(route: String, variant: String, percent: Double)] = []
}
