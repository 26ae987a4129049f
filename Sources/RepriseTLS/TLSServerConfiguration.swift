/// What a TLS listener needs to know. Mirrors the `server.tls.*` config keys:
/// - `certificate` → `certificateChainPath` (PEM, leaf first, then intermediates)
/// - `private_key` → `privateKeyPath` (PEM, unencrypted)
/// - `client_ca` → `clientCertificateAuthorityPath` (PEM bundle; set = mTLS required)
/// - `min_version` → `minimumVersion` (`1.2` default, or `1.3`)
/// - `ciphers` → `tls12CipherList` (OpenSSL cipher string, TLS 1.2 only)
public struct TLSServerConfiguration: Sendable, Equatable {
    public enum ProtocolVersion: String, Sendable, Equatable, CaseIterable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    /// ECDHE key exchange with AEAD ciphers only (AES-GCM, ChaCha20-Poly1305): forward secret,
    /// no CBC, no RSA key transport, no SHA-1 MACs.
    public static let modernTLS12CipherList = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    public static let modernTLS13Ciphersuites =
        "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    public static let modernGroups = "X25519:P-256:P-384"

    public var certificateChainPath: String
    public var privateKeyPath: String
    public var clientCertificateAuthorityPath: String?
    public var minimumVersion: ProtocolVersion
    public var tls12CipherList: String
    public var tls13Ciphersuites: String
    public var groups: String
    /// Offered in server preference order. A client whose ALPN list shares none of these (for
    /// example one offering only `h2`) is refused with a `no_application_protocol` alert.
    public var alpnProtocols: [String]

    public init(
        certificateChainPath: String,
        privateKeyPath: String,
        clientCertificateAuthorityPath: String? = nil,
        minimumVersion: ProtocolVersion = .tls12,
        tls12CipherList: String = TLSServerConfiguration.modernTLS12CipherList,
        tls13Ciphersuites: String = TLSServerConfiguration.modernTLS13Ciphersuites,
        groups: String = TLSServerConfiguration.modernGroups,
        alpnProtocols: [String] = ["http/1.1"]
    ) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.clientCertificateAuthorityPath = clientCertificateAuthorityPath
        self.minimumVersion = minimumVersion
        self.tls12CipherList = tls12CipherList
        self.tls13Ciphersuites = tls13Ciphersuites
        self.groups = groups
        self.alpnProtocols = alpnProtocols
    }

    /// The files whose change should trigger a reload.
    public var watchedPaths: [String] {
        [certificateChainPath, privateKeyPath] + (clientCertificateAuthorityPath.map { [$0] } ?? [])
    }
}
