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
    /// `baseURL.authority`, the `Host` of every request: computed once (it builds strings and
    /// searches the host; 3% of a pass-through's instructions when made per request).
    private let authority: String
    private let poolsByLoop: [ObjectIdentifier: NIOLoopBoundBox<UpstreamConnectionPool>]
    let totalTimeout: TimeAmount

    /// - Parameter tls: required for an `https://` URL (built once at start, shared by every
    ///   loop's pool, so sessions resume across loops); ignored for `http://`.
    public init(config: UpstreamConfig, tls: TLSClientContext?, eventLoopGroup: EventLoopGroup) {
        let url = config.url
        precondition(!url.isTLS || tls != nil, "an https:// upstream needs a TLS client context")
        self.baseURL = url
        self.authority = url.authority
        self.totalTimeout = .nanoseconds(config.totalTimeout.nanoseconds)
        var poolsByLoop: [ObjectIdentifier: NIOLoopBoundBox<UpstreamConnectionPool>] = [:]
        for loop in eventLoopGroup.makeIterator() {
            // Created here, used on `loop` only from now on.
            poolsByLoop[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(
                UpstreamConnectionPool(
                    eventLoop: loop, host: url.host, port: url.port,
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

    /// The request for the upstream's connection pool: its head encoded with the upstream's
    /// target and `Host`, the client's headers that go on, and the framing of the body.
    /// - Parameter identityEncoding: ask the upstream for an uncompressed body (answers that
    ///   may be cached are recorded and converted, which needs readable bytes).
    func makeUpstreamRequest(for request: ProxyRequest, identityEncoding: Bool = false) throws(ProxyError) -> UpstreamRequest {
        try makeUpstreamRequest(
            method: request.head.method, uri: request.head.uri, headers: request.head.headers,
            replacingCredentialsWith: request.upstreamAuthorization, body: request.body, identityEncoding: identityEncoding)
    }

    /// As `makeUpstreamRequest(for:)`, from the head's parts (the encoder's tests give it
    /// headers no client could send).
    func makeUpstreamRequest(
        method: HTTPMethod, uri: String, headers: some RequestHeaderLines, replacingCredentialsWith authorization: String? = nil,
        body: ByteBuffer?, identityEncoding: Bool
    ) throws(ProxyError) -> UpstreamRequest {
        var target = uri[...]
        // An absolute-form target (`http://host/path`) is reduced to its path. An origin-form
        // one (`/path`: nearly every request) is told by its first byte, without comparing
        // prefixes character by character (1.3% of a pass-through).
        let isPath = target.utf8.first == UInt8(ascii: "/")
        if !isPath, target.hasPrefix("http://") || target.hasPrefix("https://") {
            let afterScheme = target.firstRange(of: "://")!.upperBound
            target = target[afterScheme...].firstIndex(of: "/").map { target[$0...] } ?? "/"
        }
        guard isPath || target.utf8.first == UInt8(ascii: "/") else {
            throw .badRequest("the request target '\(target)' is not a path")
        }
        let contentLength: Int?
        if let body {
            contentLength = body.readableBytes
        } else if method == .POST || method == .PUT || method == .PATCH {
            contentLength = 0
        } else {
            contentLength = nil
        }
        let head = try UpstreamRequestEncoder.encode(
            method: method, pathPrefix: baseURL.pathPrefix, target: target, authority: authority,
            headers: headers, replacingCredentialsWith: authorization, identityEncoding: identityEncoding, contentLength: contentLength)
        return UpstreamRequest(method: method, head: head, body: body)
    }
}
