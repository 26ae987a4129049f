import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import RepriseCore

/// The pooled HTTP clients for one upstream (one per event loop), and how a client request
/// becomes an upstream one.
///
/// Why one AsyncHTTPClient per event loop: an exchange runs on its client connection's loop and
/// wants the upstream connection there too (no hop per body part). Asking one shared client for
/// `.delegateAndChannel(on:)` makes AsyncHTTPClient open an *event-loop-bound overflow*
/// connection whenever that loop has no idle one, and it closes such connections as soon as
/// they are idle ("we don't park them", HTTPConnectionPool+HTTP1StateMachine) — measured: 6,601
/// new upstream connections for 10,194 misses. A client whose group is that single loop keeps
/// ordinary pooled keep-alive connections, all on the right loop.
public final class UpstreamClient: Sendable {
    public let baseURL: UpstreamURL
    /// Keyed by the event loop the client's connections live on.
    private let clientsByLoop: [ObjectIdentifier: HTTPClient]
    private let allClients: [HTTPClient]
    let totalTimeout: TimeAmount

    public init(config: UpstreamConfig, eventLoopGroup: EventLoopGroup) {
        self.baseURL = config.url
        self.totalTimeout = .nanoseconds(config.totalTimeout.nanoseconds)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .nanoseconds(config.connectTimeout.nanoseconds),
                read: .nanoseconds(config.readTimeout.nanoseconds)
            ),
            // Bodies pass through as the upstream encoded them.
            decompression: .disabled
        )
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: config.maxConnectionsPerLoop
        )
        var clientsByLoop: [ObjectIdentifier: HTTPClient] = [:]
        var allClients: [HTTPClient] = []
        for loop in eventLoopGroup.makeIterator() {
            let client = HTTPClient(eventLoopGroupProvider: .shared(loop), configuration: configuration)
            clientsByLoop[ObjectIdentifier(loop)] = client
            allClients.append(client)
        }
        self.clientsByLoop = clientsByLoop
        self.allClients = allClients
    }

    /// The client whose connections live on `eventLoop` (any client for a loop outside the
    /// group, which only tests do: AsyncHTTPClient then hops to the delegate's loop).
    func httpClient(on eventLoop: EventLoop) -> HTTPClient {
        clientsByLoop[ObjectIdentifier(eventLoop)] ?? allClients[0]
    }

    /// Blocks until every pool is shut down; never call it on an event loop (tests, tools).
    func syncShutdown() throws {
        for client in allClients {
            try client.syncShutdown()
        }
    }

    public func shutdown() async throws {
        for client in allClients {
            try await client.shutdown()
        }
    }

    /// Headers a client sent that must not reach the upstream as they are: the client's `Host`
    /// (rewritten to the upstream's), framing (re-computed for the forwarded body) and
    /// `Expect` (answered by the proxy itself).
    static let requestHeadersNotForwarded: Set<String> = ["host", "content-length", "expect"]

    /// Response headers the proxy computes itself.
    static let responseHeadersNotForwarded: Set<String> = ["content-length"]

    /// Request headers meant for Reprise itself (`X-Reprise-Cache-TTL`, ...), never forwarded.
    static func isProxyControlHeader(_ lowercasedName: String) -> Bool {
        lowercasedName.hasPrefix("x-reprise-")
    }

    /// - Parameter identityEncoding: ask the upstream for an uncompressed body (answers that
    ///   may be cached are recorded and converted, which needs readable bytes).
    func makeRequest(for request: ProxyRequest, identityEncoding: Bool = false) throws -> HTTPClient.Request {
        var uri = request.head.uri
        // An absolute-form target (`http://host/path`) is reduced to its path.
        if uri.hasPrefix("http://") || uri.hasPrefix("https://") {
            let afterScheme = uri.firstRange(of: "://")!.upperBound
            uri = uri[afterScheme...].firstIndex(of: "/").map { String(uri[$0...]) } ?? "/"
        }
        guard uri.hasPrefix("/") else {
            throw ProxyError.badRequest("the request target '\(uri)' is not a path")
        }
        var headers = HopByHopHeaders.removing(
            from: request.head.headers, alsoRemoving: Self.requestHeadersNotForwarded,
            alsoRemovingWhere: Self.isProxyControlHeader
        )
        if identityEncoding {
            headers.replaceOrAdd(name: "accept-encoding", value: "identity")
        }
        let body: HTTPClient.Body? = request.body.map { .byteBuffer($0) }
        do {
            return try HTTPClient.Request(
                url: baseURL.origin + baseURL.pathPrefix + uri,
                method: request.head.method,
                headers: headers,
                body: body
            )
        } catch {
            throw ProxyError.badRequest("the request target '\(uri)' cannot be forwarded: \(error)")
        }
    }
}
