import NIOCore

/// The responder of the separate metrics listener (`metrics.listen`): `/metrics`, `/healthz`
/// and `/readyz`; anything else is a 404 there (the proxy is on the main listener).
final class MetricsResponder: RequestResponder, Sendable {
    private let endpoint: MetricsEndpoint
    private let state: ServerState

    init(endpoint: MetricsEndpoint, state: ServerState) {
        self.endpoint = endpoint
        self.state = state
    }

    func respond(to request: ProxyRequest, writer: ResponseWriter) {
        writer.markOperational()
        if request.head.method == .GET || request.head.method == .HEAD {
            if HealthEndpoints.respond(to: request, writer: writer, state: state) { return }
            if request.path == endpoint.path {
                endpoint.respond(writer: writer)
                return
            }
        }
        writer.send(error: .notFound("the metrics listener serves \(endpoint.path), /healthz and /readyz only"))
    }
}
