#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenSSL
import NIOConcurrencyHelpers
import RepriseCrypto

/// Owns one configured client `SSL_CTX` (freed exactly once, in `deinit`) and the sessions kept
/// for resumption. Build it off the event loop (it reads files, and the system trust store);
/// connections made from it keep it alive.
///
/// Resumption: OpenSSL hands every new session to `newSessionCallback` (for TLS 1.3 that is a
/// ticket arriving after the handshake); the latest one per server is kept and offered by the
/// next connection to that server, which then skips the certificate exchange.
///
/// `@unchecked Sendable`: the `SSL_CTX` is fully configured in `init` and never changed after
/// (OpenSSL documents that as safe to share between threads creating `SSL` objects); the
/// session table is guarded by `sessionLock`.
public final class TLSClientContext: @unchecked Sendable {
    public let configuration: TLSClientConfiguration
    let sslContext: OpaquePointer

    /// Sessions are kept for a handful of servers (an upstream and its fallback); a table that
    /// grows past this is cleared rather than managed.
    private static let maximumSessions = 64
    private let sessionLock = NIOLock()
    /// Session key → an `SSL_SESSION*` we hold one reference to. Guarded by `sessionLock`.
    private var sessions: [String: OpaquePointer] = [:]

    public init(configuration: TLSClientConfiguration) throws(TLSConfigurationError) {
        self.configuration = configuration
        let certificate = configuration.clientCertificateChainPath
        let key = configuration.clientPrivateKeyPath
        guard (certificate == nil) == (key == nil) else {
            throw TLSConfigurationError(.badSetting, path: certificate ?? key, detail: "a client certificate and its private key go together", openSSLErrors: [])
        }
        let caFile = try configuration.trustedCertificateAuthorityPath.map { path throws(TLSConfigurationError) in try PEMFile(path: path) }
        let certificateFile = try certificate.map { path throws(TLSConfigurationError) in try PEMFile(path: path) }
        let keyFile = try key.map { path throws(TLSConfigurationError) in try PEMFile(path: path) }
        let alpn = try ALPNWireFormat.encode(configuration.alpnProtocols)

        OpenSSLErrorStack.clear()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSConfigurationError(.badSetting, path: nil, detail: "SSL_CTX_new failed")
        }
        do throws(TLSConfigurationError) {
            try Self.applyProtocolSettings(alpn: alpn, to: context)
            if let caFile {
                try OpenSSLContextFiles.trustCertificateAuthorities(caFile, in: context, alsoAdvertisingToClients: false)
            } else if SSL_CTX_set_default_verify_paths(context) != 1 {
                throw TLSConfigurationError(.badCertificateAuthority, path: nil, detail: "cannot load the system trust store")
            }
            if let certificateFile, let keyFile {
                let leaf = try OpenSSLContextFiles.loadCertificateChain(certificateFile, into: context)
                try OpenSSLContextFiles.loadPrivateKey(keyFile, matching: leaf, into: context)
            }
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.sslContext = context
    }

    deinit {
        for session in sessions.values { SSL_SESSION_free(session) }
        SSL_CTX_free(sslContext)
    }

    private static func applyProtocolSettings(alpn: [UInt8], to context: OpaquePointer) throws(TLSConfigurationError) {
        OpenSSLErrorStack.clear()
        guard reprise_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            throw TLSConfigurationError(.badSetting, path: nil, detail: "minimum version 1.2 refused")
        }
        SSL_CTX_set_options(context, reprise_SSL_OP_NO_RENEGOTIATION() | reprise_SSL_OP_NO_COMPRESSION())
        // Verification failures end the handshake; `TLSConnection` reads which check failed.
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        // Note the inverted convention: 0 is success here.
        guard SSL_CTX_set_alpn_protos(context, alpn, UInt32(alpn.count)) == 0 else {
            throw TLSConfigurationError(.badSetting, path: nil, detail: "ALPN list refused")
        }
        // Sessions go to our callback only (OpenSSL's internal cache is for servers).
        _ = reprise_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE))
        SSL_CTX_sess_set_new_cb(context, newSessionCallback)
        _ = reprise_SSL_CTX_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS))
    }

    // MARK: - Sessions

    /// Offers the session stored for `key`, if any, on a connection about to handshake.
    func resumeSession(for key: String, on ssl: OpaquePointer) {
        sessionLock.withLock {
            // SSL_set_session takes its own reference; under the lock the stored one cannot be
            // freed meanwhile by `store`.
            if let session = sessions[key] { _ = SSL_set_session(ssl, session) }
        }
    }

    /// Keeps `session` (whose reference the caller hands over) as the one to offer for `key`.
    fileprivate func store(_ session: OpaquePointer, for key: String) {
        let replaced: OpaquePointer? = sessionLock.withLock {
            if sessions[key] == nil && sessions.count >= Self.maximumSessions {
                for stale in sessions.values { SSL_SESSION_free(stale) }
                sessions.removeAll()
            }
            let previous = sessions[key]
            sessions[key] = session
            return previous
        }
        if let replaced { SSL_SESSION_free(replaced) }
    }

    /// Whether a session is stored for `key` (for tests and logs).
    public func hasSession(for key: String) -> Bool {
        sessionLock.withLock { sessions[key] != nil }
    }

    /// True for an IPv4 or IPv6 address literal (these get no SNI and an address check).
    static func isIPAddress(_ host: String) -> Bool {
        var address = in6_addr()
        return host.withCString { name in
            inet_pton(AF_INET, name, &address) == 1 || inet_pton(AF_INET6, name, &address) == 1
        }
    }
}

/// OpenSSL's new-session hook. The `SSL`'s app data is its `TLSConnection` (set at creation;
/// the connection owns the `SSL`, so it is alive while OpenSSL runs this). Returning 1 keeps
/// the reference OpenSSL passed us.
private func newSessionCallback(ssl: OpaquePointer?, session: OpaquePointer?) -> Int32 {
    guard let ssl, let session, let pointer = SSL_get_ex_data(ssl, 0) else { return 0 }
    let connection = Unmanaged<TLSConnection>.fromOpaque(pointer).takeUnretainedValue()
    guard let context = connection.clientContext, SSL_SESSION_is_resumable(session) == 1 else { return 0 }
    context.store(session, for: connection.sessionKey)
    return 1
}
