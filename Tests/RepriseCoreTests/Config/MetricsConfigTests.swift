import Testing
@testable import RepriseCore

/// `metrics:` validation: every impossible value names its key.
@Suite struct MetricsConfigTests {
    @Test func metricsConfigRejectsPathsAndLabelsThatCannotWork() {
        var config = MetricsConfig()
        #expect(config.validate().isEmpty)
        config.path = "/v1/models"
        config.models = ["x", "x", "none"]
        let keys = config.validate().map(\.keyPath)
        #expect(keys.contains("metrics.path"))
        #expect(keys.filter { $0 == "metrics.models" }.count == 2)
    }
}
