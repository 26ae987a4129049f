import NIOConcurrencyHelpers
import NIOCore

/// The request metrics of one event loop's connections, added up where they happen.
///
/// A request's start and end each take this shard's lock once, which only a scrape ever
/// contends for: no lock or atomic shared between loops, no label string built, and the series
/// of the previous request remembered, so a run of alike requests (a hit benchmark, a busy
/// route) skips the hash too. `ProxyMetrics` merges every shard when Prometheus scrapes.
final class RequestMetricsShard: Sendable {
    private let state: NIOLockedValueBox<State>
    private let models: ModelLabels

    init(models: ModelLabels) {
        self.models = models
        state = NIOLockedValueBox(State())
    }

    struct State {
        /// Figures per series; `index` finds a series' slot.
        var figures: [RequestFigures] = []
        var series: [RequestSeries] = []
        var index: [RequestSeries: Int] = [:]
        var lastSlot: Int?
        /// Requests in progress per route (few routes: a list, not a table).
        var activeRoutes: [String] = []
        var active: [Int] = []
        var lastModel: String?
        var lastModelIndex = 0

        mutating func slot(of key: RequestSeries) -> Int {
            if let lastSlot, series[lastSlot] == key { return lastSlot }
            let slot: Int
            if let known = index[key] {
                slot = known
            } else {
                slot = figures.count
                figures.append(RequestFigures())
                series.append(key)
                index[key] = slot
            }
            lastSlot = slot
            return slot
        }

        mutating func activeSlot(of route: String) -> Int {
            if let slot = activeRoutes.firstIndex(of: route) { return slot }
            activeRoutes.append(route)
            active.append(0)
            return active.count - 1
        }
    }

    /// A request began on `route` (the gauge `llm_active_requests`); `finished` ends it on the
    /// same route.
    func started(route: String) {
        state.withLockedValue { state in state.active[state.activeSlot(of: route)] += 1 }
    }

    /// A request ended at `end`: its series moves, and `startedRoute` (the route `started` was
    /// told, nil when it was not) leaves the in-progress gauge.
    func finished(_ record: RequestRecord, end: NIODeadline, startedRoute: String?) {
        let total = (end - record.receivedAt).nanoseconds
        let firstByte = record.firstByteAt.map { ($0 - record.receivedAt).nanoseconds }
        let inside = max(0, total - record.upstreamNanoseconds(endedAt: end))
        state.withLockedValue { state in
            if let startedRoute { state.active[state.activeSlot(of: startedRoute)] -= 1 }
            let model: Int
            if let name = record.model, name == state.lastModel {
                model = state.lastModelIndex
            } else {
                model = models.index(of: record.model)
                state.lastModel = record.model
                state.lastModelIndex = model
            }
            let slot = state.slot(of: RequestSeries(route: record.route, model: model, variant: record.variant, status: record.status, cache: record.cache))
            state.figures[slot].requests += 1
            state.figures[slot].latency.record(nanoseconds: total)
            if let firstByte { state.figures[slot].timeToFirstByte.record(nanoseconds: firstByte) }
            state.figures[slot].overhead.record(nanoseconds: inside)
            if let usage = record.usage {
                state.figures[slot].addUsage(prompt: usage.promptTokens, completion: usage.completionTokens)
            }
        }
    }

    /// A copy of the figures, for a scrape.
    func snapshot() -> (series: [RequestSeries], figures: [RequestFigures], active: [(route: String, count: Int)]) {
        state.withLockedValue { state in
            (state.series, state.figures, Array(zip(state.activeRoutes, state.active)).map { (route: $0.0, count: $0.1) })
        }
    }
}
