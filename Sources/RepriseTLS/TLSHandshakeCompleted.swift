/// Fired as a user inbound event by `OpenSSLServerHandler` once the handshake finished.
public struct TLSHandshakeCompleted: Sendable, Equatable {
    /// `TLSv1.2` or `TLSv1.3`.
    public let protocolVersion: String
    /// OpenSSL's cipher name, e.g. `TLS_AES_256_GCM_SHA384` or `ECDHE-RSA-AES128-GCM-SHA256`.
    public let cipher: String
    /// The ALPN protocol agreed on, nil if the client sent no ALPN extension.
    public let alpnProtocol: String?
    /// Subject of the verified client certificate (mTLS), one-line form.
    public let peerCertificateSubject: String?
    /// Serial (hex) of the server certificate this connection presented: after a reload, tells
    /// which certificate generation a connection uses.
    public let serverCertificateSerial: String
    /// The client resumed an earlier session (a TLS 1.2 session id or ticket, a TLS 1.3
    /// ticket): no certificate was sent, no full key exchange signed.
    public let sessionReused: Bool
}
