import NIOCore

/// Client-side TLS for one outgoing connection (see `OpenSSLHandler` for the data flow): sends
/// the hello as soon as the channel is active, verifies the server's certificate chain and name,
/// and holds back every write until the handshake finished, so nothing of a request leaves
/// before the server proved who it is.
///
/// The outcome goes to `handshakePromise` (when given) and, on success, down the pipeline as a
/// `TLSClientHandshakeCompleted` user inbound event; a failure also goes down the pipeline as a
/// `TLSConnectionError` whose kind says which check failed (untrusted, host name, expired...).
public final class OpenSSLClientHandler: OpenSSLHandler {
    private var handshakePromise: EventLoopPromise<TLSClientHandshakeCompleted>?

    /// - Parameters:
    ///   - serverName: the host from the URL: sent as SNI (unless an IP address) and checked
    ///     against the certificate.
    ///   - sessionKey: which stored session to resume and where to store new ones (the
    ///     upstream's `host:port`); connections to the same server share it.
    ///   - handshakeTimeout: nil leaves the timeout to the caller (the upstream pool counts the
    ///     handshake in its connect timeout).
    ///   - handshakePromise: completed with the agreed parameters or failed with the
    ///     `TLSConnectionError`.
    public init(
        context: TLSClientContext, serverName: String, sessionKey: String,
        handshakeTimeout: TimeAmount? = nil,
        handshakePromise: EventLoopPromise<TLSClientHandshakeCompleted>? = nil
    ) throws(TLSConnectionError) {
        self.handshakePromise = handshakePromise
        let connection: TLSConnection
        do {
            connection = try TLSConnection(context: context, serverName: serverName, sessionKey: sessionKey)
        } catch {
            handshakePromise?.fail(error)  // a promise left pending would leak
            throw error
        }
        super.init(connection: connection, initiatesHandshake: true, handshakeTimeout: handshakeTimeout)
    }

    override func handshakeCompleted(context: ChannelHandlerContext) {
        let parameters = connection.negotiatedClientParameters()
        let promise = handshakePromise
        handshakePromise = nil
        promise?.succeed(parameters)
        context.fireUserInboundEventTriggered(parameters)
    }

    override func handshakeFailed(_ error: TLSConnectionError) {
        let promise = handshakePromise
        handshakePromise = nil
        promise?.fail(error)
    }
}
