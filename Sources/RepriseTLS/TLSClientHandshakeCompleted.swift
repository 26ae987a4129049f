/// What a client handshake agreed on: the value `OpenSSLClientHandler` fires as a user inbound
/// event and completes its handshake promise with.
public struct TLSClientHandshakeCompleted: Sendable, Equatable {
    /// `TLSv1.2` or `TLSv1.3`.
    public let protocolVersion: String
    /// OpenSSL's cipher name, e.g. `TLS_AES_256_GCM_SHA384`.
    public let cipher: String
    /// The ALPN protocol the server chose, nil if it chose none.
    public let alpnProtocol: String?
    /// Subject of the server's (verified) certificate, one-line form.
    public let serverCertificateSubject: String?
    /// The handshake resumed an earlier session (abbreviated: no certificate exchange).
    public let sessionReused: Bool
}
