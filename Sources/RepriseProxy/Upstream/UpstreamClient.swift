import Logging
import NIOCore
import NIOHTTP1
import RepriseCore
import RepriseTLS

/// The connection pools for one upstream (one per event loop), and how a client request
/// becomes an upstream one. `http://` and `https://` upstreams take the same path; for
/// `https://` the pools' connections start with an OpenSSL handshake (`tls`).
///
/// Why one pool per event loop: an exchange runs on its client connection's loop and wants the
/// upstream connection there too (no hop per body part).
public final class UpstreamClient: Sendable {
    public let baseURL: UpstreamURL
    private let poolsByLoop: [ObjectIdentifier: NIOLoopBoundBox<UpstreamConnectionPool>]
    let totalTimeout: TimeAmount

    /// - Parameter tls: required for an `https://` URL (built once at start, shared by every
    ///   loop's pool, so sessions resume across loops); ignored for `http://`.
    public init(config: UpstreamConfig, tls: TLSClientContext?, eventLoopGroup: EventLoopGroup) {
        let url = config.url
        precondition(!url.isTLS || tls != nil, "an https:// upstream needs a TLS client context")
        self.baseURL = url
        self.totalTimeout = .nanoseconds(config.totalTimeout.nanoseconds)
        var poolsByLoop: [ObjectIdentifier: NIOLoopBoundBox<UpstreamConnectionPool>] = [:]
        for loop in eventLoopGroup.makeIterator() {
            // Created here, used on `loop` only from now on.
            poolsByLoop[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(
                UpstreamConnectionPool(
                    eventLoop: loop, host: url.host, port: url.port, hostHeader: url.authority,
                    maxConnections: config.maxConnectionsPerLoop,
                    connectTimeout: .nanoseconds(config.connectTimeout.nanoseconds),
                    readTimeout: .nanoseconds(config.readTimeout.nanoseconds),
                    tls: url.isTLS ? tls : nil
                ),
                eventLoop: loop
            )
        }
        self.poolsByLoop = poolsByLoop
    }

    /// The pool of `eventLoop`; call on that loop.
    func connectionPool(on eventLoop: EventLoop) -> UpstreamConnectionPool {
        if let box = poolsByLoop[ObjectIdentifier(eventLoop)] { return box.value }
        preconditionFailure("no upstream pool for event loop \(eventLoop): not one of the server's loops")
    }

    /// Blocks until every pool is shut down; never call it on an event loop (tests, tools).
    func syncShutdown() throws {
        for box in poolsByLoop.values {
            try box.eventLoop.submit { box.value.shutdown() }.wait()
        }
    }

    public func shutdown() async throws {
        for box in poolsByLoop.values {
            try await box.eventLoop.submit { box.value.shutdown() }.get()
        }
    }

    /// Headers a client sent that must not reach the upstream as they are: the client's `Host`
    /// (rewritten to the upstream's), framing (re-computed for the forwarded body) and
    /// `Expect` (answered by the proxy itself).
    static let requestHeadersNotForwarded: Set<String> = ["host", "content-length", "expect"]

    /// Response headers the proxy computes itself: framing, and its own `x-cache`,
    /// `x-reprise-attempts` and `x-reprise-variant`, which replace an upstream's (a Reprise or another cache in front
    /// of the real API) so the client learns what this proxy did.
    static let responseHeadersNotForwarded: Set<String> = ["content-length", "x-cache", "x-reprise-attempts", "x-reprise-variant", "x-request-id"]

    /// Request headers meant for Reprise itself (`X-Reprise-Cache-TTL`, ...), never forwarded.
    static func isProxyControlHeader(_ lowercasedName: String) -> Bool {
        lowercasedName.hasPrefix("x-reprise-")
    }

    /// The upstream request target and headers for a client request.
    /// - Parameter identityEncoding: ask the upstream for an uncompressed body (answers that
    ///   may be cached are recorded and converted, which needs readable bytes).
    private func forwarded(_ request: ProxyRequest, identityEncoding: Bool) throws -> (target: String, headers: HTTPHeaders) {
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
        return (baseURL.pathPrefix + uri, headers)
    }

    /// The request for the upstream's connection pool (`Host` is set by the pool).
    func makeUpstreamRequest(for request: ProxyRequest, identityEncoding: Bool = false) throws -> UpstreamRequest {
        let (target, headers) = try forwarded(request, identityEncoding: identityEncoding)
        guard !target.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw ProxyError.badRequest("the request target '\(target)' cannot be forwarded: it contains spaces or control characters")
        }
        var head = HTTPRequestHead(version: .http1_1, method: request.head.method, uri: target, headers: headers)
        let method = request.head.method
        if let body = request.body {
            head.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        } else if method == .POST || method == .PUT || method == .PATCH {
            head.headers.replaceOrAdd(name: "content-length", value: "0")
        }
        return UpstreamRequest(head: head, body: request.body)
    }
}
