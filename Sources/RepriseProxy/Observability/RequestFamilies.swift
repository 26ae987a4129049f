/// The request families in Prometheus text format (0.0.4), rendered from every event loop's
/// `RequestMetricsShard`: `llm_requests_total`, `llm_tokens_total`, `llm_latency_seconds`,
/// `llm_time_to_first_byte_seconds`, `llm_proxy_overhead_seconds`, `llm_active_requests`.
///
/// These are added up by the shards rather than in swift-prometheus's registry (whose
/// histograms take a lock per observation), so their text is written here, in the registry's
/// own layout: the same names, labels, bucket bounds and number forms as before.
struct RequestFamilies {
    static let latencyBuckets: [Double] = [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
        1, 2.5, 5, 10, 30, 60, 120, 300,
    ]
    static let overheadBuckets: [Double] = [
        0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    ]
    static let latencyBounds = HistogramCounts.nanosecondBounds(seconds: latencyBuckets)
    static let overheadBounds = HistogramCounts.nanosecondBounds(seconds: overheadBuckets)

    let models: ModelLabels
    /// Every series seen, its figures added up over the shards.
    private(set) var bySeries: [RequestSeries: RequestFigures] = [:]
    private(set) var activeByRoute: [String: Int] = [:]

    init(models: ModelLabels, routes: [String]) {
        self.models = models
        // A route's gauge reads 0 before its first request rather than being absent.
        for route in routes { activeByRoute[route] = 0 }
    }

    mutating func add(_ shard: RequestMetricsShard) {
        let snapshot = shard.snapshot()
        for (series, figures) in zip(snapshot.series, snapshot.figures) {
            bySeries[series, default: RequestFigures()].add(figures)
        }
        for (route, count) in snapshot.active { activeByRoute[route, default: 0] += count }
    }

    func write(into out: inout [UInt8]) {
        let series = bySeries.keys.sorted { Self.order($0).lexicographicallyPrecedes(Self.order($1)) }
        func modelLabel(_ key: RequestSeries) -> String { models.values[key.model] }

        Self.family(into: &out, name: "llm_requests_total", type: "counter",
                    help: "Requests answered by Reprise, by route, model, variant, status and cache result.")
        for key in series {
            Self.sample(into: &out, name: "llm_requests_total", labels: [
                ("route", key.route), ("model", modelLabel(key)), ("variant", key.variant), ("status", String(key.status)), ("cache", key.cache.metricLabel),
            ], value: String(bySeries[key]!.requests))
        }

        // The other families have fewer labels: series that differ only in the labels a family
        // lacks are one series there.
        var tokens: [[String]: (prompt: Int, completion: Int)] = [:]
        var latency: [[String]: (total: HistogramCounts, firstByte: HistogramCounts)] = [:]
        var overhead: [[String]: HistogramCounts] = [:]
        var order: [[String]] = []
        for key in series {
            let figures = bySeries[key]!
            let cache = key.cache.metricLabel
            let tokenLabels = [modelLabel(key), key.variant, cache]
            let sum = tokens[tokenLabels] ?? (0, 0)
            tokens[tokenLabels] = (RequestFigures.adding(sum.prompt, figures.promptTokens), RequestFigures.adding(sum.completion, figures.completionTokens))
            let latencyLabels = [key.route, cache, key.variant]
            if var seen = latency[latencyLabels] {
                seen.total.add(figures.latency)
                seen.firstByte.add(figures.timeToFirstByte)
                latency[latencyLabels] = seen
            } else {
                latency[latencyLabels] = (figures.latency, figures.timeToFirstByte)
                order.append(latencyLabels)
            }
            overhead[[key.route, cache], default: HistogramCounts(bounds: Self.overheadBounds)].add(figures.overhead)
        }

        Self.family(into: &out, name: "llm_tokens_total", type: "counter",
                    help: "Tokens of answers (usage), by model, variant, type (prompt/completion) and cache result; cache=\"hit\" are tokens saved.")
        for labels in tokens.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let sum = tokens[labels]!
            for (type, value) in [("prompt", sum.prompt), ("completion", sum.completion)] {
                Self.sample(into: &out, name: "llm_tokens_total",
                            labels: [("model", labels[0]), ("variant", labels[1]), ("type", type), ("cache", labels[2])], value: String(value))
            }
        }

        Self.family(into: &out, name: "llm_latency_seconds", type: "histogram", help: "Request head received to the last byte of the response written.")
        for labels in order {
            Self.histogram(into: &out, name: "llm_latency_seconds", labels: [("route", labels[0]), ("cache", labels[1]), ("variant", labels[2])],
                           counts: latency[labels]!.total, buckets: Self.latencyBuckets)
        }
        Self.family(into: &out, name: "llm_time_to_first_byte_seconds", type: "histogram", help: "Request head received to the response head written.")
        for labels in order {
            Self.histogram(into: &out, name: "llm_time_to_first_byte_seconds", labels: [("route", labels[0]), ("cache", labels[1]), ("variant", labels[2])],
                           counts: latency[labels]!.firstByte, buckets: Self.latencyBuckets)
        }
        Self.family(into: &out, name: "llm_proxy_overhead_seconds", type: "histogram",
                    help: "Time spent in Reprise: latency minus the time waiting for the upstream.")
        for labels in overhead.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            Self.histogram(into: &out, name: "llm_proxy_overhead_seconds", labels: [("route", labels[0]), ("cache", labels[1])],
                           counts: overhead[labels]!, buckets: Self.overheadBuckets)
        }

        Self.family(into: &out, name: "llm_active_requests", type: "gauge", help: "Requests in progress.")
        for route in activeByRoute.keys.sorted() {
            Self.sample(into: &out, name: "llm_active_requests", labels: [("route", route)], value: String(Double(activeByRoute[route]!)))
        }
    }

    private static func order(_ key: RequestSeries) -> [String] {
        [key.route, key.variant, String(key.model), key.cache.metricLabel, String(key.status)]
    }

    // MARK: Text format

    private static func family(into out: inout [UInt8], name: String, type: String, help: String) {
        out.append(contentsOf: "# HELP \(name) ".utf8)
        for byte in help.utf8 {
            if byte == UInt8(ascii: "\\") { out.append(contentsOf: #"\\"#.utf8) } else { out.append(byte) }
        }
        out.append(contentsOf: "\n# TYPE \(name) \(type)\n".utf8)
    }

    private static func labels(into out: inout [UInt8], _ labels: [(String, String)], extra: (String, String)? = nil) {
        out.append(UInt8(ascii: "{"))
        for (position, (name, value)) in (labels + (extra.map { [$0] } ?? [])).enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: #"=""#.utf8)
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
                default: out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func sample(into out: inout [UInt8], name: String, labels list: [(String, String)], value: String) {
        out.append(contentsOf: name.utf8)
        labels(into: &out, list)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: value.utf8)
        out.append(UInt8(ascii: "\n"))
    }

    private static func histogram(into out: inout [UInt8], name: String, labels list: [(String, String)], counts: HistogramCounts, buckets: [Double]) {
        var cumulative = 0
        for (slot, bound) in buckets.enumerated() {
            cumulative += counts.perBucket[slot]
            out.append(contentsOf: "\(name)_bucket".utf8)
            labels(into: &out, list, extra: ("le", bound.description))
            out.append(contentsOf: " \(cumulative)\n".utf8)
        }
        out.append(contentsOf: "\(name)_bucket".utf8)
        labels(into: &out, list, extra: ("le", "+Inf"))
        out.append(contentsOf: " \(counts.count)\n".utf8)
        out.append(contentsOf: "\(name)_sum".utf8)
        labels(into: &out, list)
        out.append(contentsOf: " \((Double(counts.sumNanoseconds) / 1e9).description)\n".utf8)
        out.append(contentsOf: "\(name)_count".utf8)
        labels(into: &out, list)
        out.append(contentsOf: " \(counts.count)\n".utf8)
    }
}
