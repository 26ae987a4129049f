/// What a TLS client (Reprise calling an `https://` upstream) needs to know. Mirrors the
/// `upstream.*` config keys:
/// - `ca_file` → `trustedCertificateAuthorityPath` (PEM bundle trusted *instead of* the system
///   trust store; nil: the system store)
/// - `client_certificate` → `clientCertificateChainPath` (PEM, leaf first; mTLS upstreams)
/// - `client_key` → `clientPrivateKeyPath` (PEM, unencrypted; set together with the certificate)
///
/// Always: peer verification with host name check, TLS 1.2 or newer, ALPN `http/1.1`.
public struct TLSClientConfiguration: Sendable, Equatable {
    public var trustedCertificateAuthorityPath: String?
    public var clientCertificateChainPath: String?
    public var clientPrivateKeyPath: String?
    /// Offered in this order; the server picks one or none.
    public var alpnProtocols: [String]

    public init(
        trustedCertificateAuthorityPath: String? = nil,
        clientCertificateChainPath: String? = nil,
        clientPrivateKeyPath: String? = nil,
        alpnProtocols: [String] = ["http/1.1"]
    ) {
        self.trustedCertificateAuthorityPath = trustedCertificateAuthorityPath
        self.clientCertificateChainPath = clientCertificateChainPath
        self.clientPrivateKeyPath = clientPrivateKeyPath
        self.alpnProtocols = alpnProtocols
    }
}
