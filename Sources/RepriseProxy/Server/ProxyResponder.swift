import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1

/// Routes a complete request: Reprise's own endpoints first, everything else to the upstream.
final class ProxyResponder: RequestResponder, Sendable {
    private let upstream: UpstreamClient
    private let state: ServerState
    private let logger: Logger

    init(upstream: UpstreamClient, state: ServerState, logger: Logger) {
        self.upstream = upstream
        self.state = state
        self.logger = logger
    }

    func respond(to request: ProxyRequest, writer: ResponseWriter) {
        if request.head.method == .GET || request.head.method == .HEAD {
            switch request.path {
            case "/healthz":
                writer.send(status: .ok, headers: Self.jsonHeaders, body: ByteBuffer(string: "{\"status\":\"ok\"}"))
                return
            case "/readyz":
                if state.isReady {
                    writer.send(status: .ok, headers: Self.jsonHeaders, body: ByteBuffer(string: "{\"status\":\"ready\"}"))
                } else {
                    writer.send(error: .unavailable("not ready: starting up or shutting down"))
                }
                return
            default:
                break
            }
        }
        forward(request, writer: writer, cacheStatus: "BYPASS")
    }

    private func forward(_ request: ProxyRequest, writer: ResponseWriter, cacheStatus: String) {
        let upstreamRequest: HTTPClient.Request
        do {
            upstreamRequest = try upstream.makeRequest(for: request)
        } catch let error as ProxyError {
            writer.send(error: error)
            return
        } catch {
            writer.send(error: .badRequest("\(error)"))
            return
        }
        var extra = HTTPHeaders()
        extra.add(name: "x-cache", value: cacheStatus)
        let relay = UpstreamRelay(writer: writer, extraHeaders: extra)
        let task = upstream.httpClient.execute(
            request: upstreamRequest,
            delegate: relay,
            eventLoop: .delegateAndChannel(on: writer.eventLoop),
            deadline: .now() + upstream.totalTimeout,
            logger: nil
        )
        writer.onClientGone { task.cancel() }
    }

    private static let jsonHeaders: HTTPHeaders = ["content-type": "application/json"]
}
