import RepriseCrypto

/// Why a TLS server context could not be built. Always names the file at fault (when a file is
/// at fault) and carries OpenSSL's drained error stack, so a start-up failure or a refused
/// reload can be understood from one log line.
public struct TLSConfigurationError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file could not be opened or read (missing, permissions, a directory).
        case unreadableFile
        /// The certificate chain file holds no parseable PEM certificate.
        case badCertificate
        /// The private key file holds no parseable (unencrypted) PEM private key.
        case badPrivateKey
        /// The private key does not belong to the first certificate of the chain.
        case keyMismatch
        /// The client CA bundle holds no parseable certificate.
        case badCertificateAuthority
        /// A protocol, cipher, group or ALPN setting was refused by OpenSSL.
        case badSetting
    }

    public let kind: Kind
    /// The file at fault, if a file is at fault.
    public let path: String?
    /// What was being done, in words.
    public let detail: String
    /// OpenSSL's error queue at the time of failure, oldest first.
    public let openSSLErrors: [String]

    init(_ kind: Kind, path: String?, detail: String, openSSLErrors: [String] = OpenSSLErrorStack.drain()) {
        self.kind = kind
        self.path = path
        self.detail = detail
        self.openSSLErrors = openSSLErrors
    }

    public var description: String {
        var text = "TLS configuration error (\(kind))"
        if let path { text += " in \(path)" }
        text += ": \(detail)"
        if !openSSLErrors.isEmpty { text += " [" + openSSLErrors.joined(separator: "; ") + "]" }
        return text
    }
}
