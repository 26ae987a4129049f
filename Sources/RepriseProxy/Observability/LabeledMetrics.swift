import NIOConcurrencyHelpers

/// The handles of one metric family, one per label combination, made on first use and kept.
///
/// A request looks its handle up by a key of small values (indexes, a status code, constant
/// strings) under an uncontended lock: no label string is built and the registry's own
/// name-and-labels lookup runs once per combination, not per request. The label sets are
/// bounded, so the table is too.
final class LabeledMetrics<Key: Hashable & Sendable, Metric: Sendable>: Sendable {
    private let handles = NIOLockedValueBox<[Key: Metric]>([:])
    private let make: @Sendable (Key) -> Metric

    init(make: @escaping @Sendable (Key) -> Metric) {
        self.make = make
    }

    subscript(key: Key) -> Metric {
        handles.withLockedValue { handles in
            if let handle = handles[key] { return handle }
            let handle = make(key)
            handles[key] = handle
            return handle
        }
    }
}
