import NIOCore

/// Server-side TLS for one accepted connection (see `OpenSSLHandler` for the data flow):
/// waits for the client's hello and fires `TLSHandshakeCompleted` as a user inbound event once
/// the handshake finished.
public final class OpenSSLServerHandler: OpenSSLHandler {
    /// - Parameters:
    ///   - context: the server context current when the connection was accepted (take it from
    ///     `TLSContextProvider.current`); a later reload does not affect this connection.
    ///   - handshakeTimeout: nil leaves the timeout to the caller.
    public init(context: TLSServerContext, handshakeTimeout: TimeAmount? = .seconds(10)) throws(TLSConnectionError) {
        super.init(connection: try TLSConnection(context: context), initiatesHandshake: false, handshakeTimeout: handshakeTimeout)
    }

    override func handshakeCompleted(context: ChannelHandlerContext) {
        context.fireUserInboundEventTriggered(connection.negotiatedParameters())
    }
}
