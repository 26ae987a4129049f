import Prometheus

/// A metric's full name and help text, as a value the handle factories can capture
/// (swift-prometheus's `MetricNameDescriptor` is not `Sendable`).
struct MetricDescription: Sendable {
    let name: String
    let help: String

    var descriptor: MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
