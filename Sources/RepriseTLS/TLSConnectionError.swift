import RepriseCrypto

/// A failure on one TLS connection. The handler fires it down the pipeline and closes the
/// connection; nothing is retried at this level.
public struct TLSConnectionError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// `SSL_new` or a memory BIO could not be created, or the server name was refused.
        case connectionSetupFailed
        /// The handshake failed (bad protocol version, no shared cipher, bad client certificate,
        /// no shared ALPN protocol, garbage bytes...).
        case handshakeFailed
        /// The handshake did not finish within the configured time.
        case handshakeTimedOut
        /// The peer closed the connection before the handshake finished.
        case closedDuringHandshake
        /// Client side: the server's certificate chain does not lead to a trusted CA (unknown or
        /// self-signed issuer, missing intermediate).
        case certificateUntrusted
        /// Client side: the server's certificate is not valid for the name we connected to.
        case certificateHostnameMismatch
        /// Client side: the server's certificate (or one of its chain) is expired or not yet valid.
        case certificateExpired
        /// Client side: any other reason the server's certificate was refused (revoked, wrong
        /// purpose, bad signature...).
        case certificateRejected
        /// Decrypting application data failed (bad record MAC, refused renegotiation...).
        case readFailed
        /// Encrypting application data failed.
        case writeFailed
    }

    public let kind: Kind
    /// `SSL_get_error`'s answer for the failing call (0 when not applicable).
    public let sslErrorCode: Int32
    /// For certificate failures: OpenSSL's verification result in words
    /// (`X509_verify_cert_error_string`), e.g. "certificate has expired".
    public let verificationDetail: String?
    /// OpenSSL's error queue at the time of failure, oldest first.
    public let openSSLErrors: [String]

    init(_ kind: Kind, sslErrorCode: Int32 = 0, verificationDetail: String? = nil, openSSLErrors: [String] = OpenSSLErrorStack.drain()) {
        self.kind = kind
        self.sslErrorCode = sslErrorCode
        self.verificationDetail = verificationDetail
        self.openSSLErrors = openSSLErrors
    }

    /// The peer's certificate was refused: another attempt would get the same certificate.
    public var isCertificateFailure: Bool {
        switch kind {
        case .certificateUntrusted, .certificateHostnameMismatch, .certificateExpired, .certificateRejected: true
        default: false
        }
    }

    /// One sentence for an operator: which check failed.
    public var summary: String {
        let detail = verificationDetail.map { " (\($0))" } ?? ""
        return switch kind {
        case .connectionSetupFailed: "TLS connection set-up failed"
        case .handshakeFailed: "TLS handshake failed"
        case .handshakeTimedOut: "TLS handshake timed out"
        case .closedDuringHandshake: "the peer closed the connection during the TLS handshake"
        case .certificateUntrusted: "certificate not trusted\(detail)"
        case .certificateHostnameMismatch: "certificate does not match the host name\(detail)"
        case .certificateExpired: "certificate expired or not yet valid\(detail)"
        case .certificateRejected: "certificate refused\(detail)"
        case .readFailed: "TLS read failed"
        case .writeFailed: "TLS write failed"
        }
    }

    public var description: String {
        var text = "TLS connection error (\(kind)"
        if sslErrorCode != 0 { text += ", SSL_get_error \(sslErrorCode)" }
        if let verificationDetail { text += ", \(verificationDetail)" }
        text += ")"
        if !openSSLErrors.isEmpty { text += ": " + openSSLErrors.joined(separator: "; ") }
        return text
    }
}
