import NIOCore
import NIOHTTP1
import RepriseCore

/// `GET metrics.path`: every metric in Prometheus text format (version 0.0.4), after reading
/// the figures other components keep (`ProxyMetrics.exposition`).
struct MetricsEndpoint: Sendable {
    let path: String
    let metrics: ProxyMetrics
    let sources: @Sendable () -> ScrapeSources

    func respond(writer: ResponseWriter) {
        writer.markOperational()
        writer.send(status: .ok, headers: Self.headers, body: metrics.exposition(sources: sources()))
    }

    private static let headers: HTTPHeaders = ["content-type": "text/plain; version=0.0.4; charset=utf-8"]
}
