import NIOCore
import NIOHTTP1

/// `GET /healthz` (the process serves) and `GET /readyz` (configured, listening, not draining),
/// on the main listener and on the metrics listener.
enum HealthEndpoints {
    /// Answers and returns true when `request` is a health check.
    static func respond(to request: ProxyRequest, writer: ResponseWriter, state: ServerState) -> Bool {
        switch request.path {
        case "/healthz":
            writer.markOperational()
            writer.send(status: .ok, headers: jsonHeaders, body: ByteBuffer(string: "{\"status\":\"ok\"}"))
            return true
        case "/readyz":
            writer.markOperational()
            if state.isReady {
                writer.send(status: .ok, headers: jsonHeaders, body: ByteBuffer(string: "{\"status\":\"ready\"}"))
            } else {
                writer.send(error: .unavailable("not ready: starting up or shutting down"))
            }
            return true
        default:
            return false
        }
    }

    private static let jsonHeaders: HTTPHeaders = ["content-type": "application/json"]
}
