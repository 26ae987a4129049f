import RepriseCrypto

/// A failure on one TLS connection. The handler fires it down the pipeline and closes the
/// connection; nothing is retried at this level.
public struct TLSConnectionError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// `SSL_new` or a memory BIO could not be created.
        case connectionSetupFailed
        /// The handshake failed (bad protocol version, no shared cipher, bad client certificate,
        /// no shared ALPN protocol, garbage bytes...).
        case handshakeFailed
        /// The handshake did not finish within the configured time.
        case handshakeTimedOut
        /// Decrypting application data failed (bad record MAC, refused renegotiation...).
        case readFailed
        /// Encrypting application data failed.
        case writeFailed
    }

    public let kind: Kind
    /// `SSL_get_error`'s answer for the failing call (0 when not applicable).
    public let sslErrorCode: Int32
    /// OpenSSL's error queue at the time of failure, oldest first.
    public let openSSLErrors: [String]

    init(_ kind: Kind, sslErrorCode: Int32 = 0, openSSLErrors: [String] = OpenSSLErrorStack.drain()) {
        self.kind = kind
        self.sslErrorCode = sslErrorCode
        self.openSSLErrors = openSSLErrors
    }

    public var description: String {
        var text = "TLS connection error (\(kind)"
        if sslErrorCode != 0 { text += ", SSL_get_error \(sslErrorCode)" }
        text += ")"
        if !openSSLErrors.isEmpty { text += ": " + openSSLErrors.joined(separator: "; ") }
        return text
    }
}
