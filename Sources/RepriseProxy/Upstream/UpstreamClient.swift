import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import RepriseCore

/// The pooled HTTP client for one upstream, and how a client request becomes an upstream one.
public final class UpstreamClient: Sendable {
    public let baseURL: UpstreamURL
    let httpClient: HTTPClient
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
        self.httpClient = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
    }

    public func shutdown() async throws {
        try await httpClient.shutdown()
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
        var headers = HopByHopHeaders.removing(from: request.head.headers, alsoRemoving: Self.requestHeadersNotForwarded)
        if headers.contains(where: { Self.isProxyControlHeader($0.name.lowercased()) }) {
            var kept = HTTPHeaders()
            for (name, value) in headers where !Self.isProxyControlHeader(name.lowercased()) { kept.add(name: name, value: value) }
            headers = kept
        }
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
