import RepriseCrypto
import COpenSSL
import NIOCore

/// Owns one `SSL*` (server or client side, freed exactly once in `deinit`) and the
/// `ByteBufferBIO` it reads and writes ciphertext through. Ciphertext goes in through `feed`,
/// plaintext comes out of `read`; plaintext goes in through `write` and ciphertext comes out of
/// `takeCiphertext`. Not thread-safe: one connection, one event loop. Every call clears the
/// error queue first and drains it on failure.
final class TLSConnection {
    enum HandshakeResult {
        case complete
        case needsMoreCiphertext
        case failed(TLSConnectionError)
    }

    enum ReadResult {
        case plaintext(ByteBuffer)
        case needsMoreCiphertext
        /// The peer sent `close_notify`.
        case closedByPeer
        case failed(TLSConnectionError)
    }

    /// Server side: keeps the `SSL_CTX` and the ALPN list its callback reads alive as long as this `SSL`.
    let serverContext: TLSServerContext?
    /// Client side: keeps the `SSL_CTX` and the session cache alive as long as this `SSL`.
    let clientContext: TLSClientContext?
    /// Client side: the host (and port) whose sessions this connection resumes and stores.
    let sessionKey: String
    private let ssl: OpaquePointer
    /// Ciphertext both ways; `ssl` holds a reference to its `BIO`, freed before this object.
    private let network: ByteBufferBIO
    /// The storage of the last plaintext handed on, decrypted into again once released.
    private var plaintext = ReusableBuffer(maximumKeptCapacity: TLSConnection.recordPlaintextSize)
    /// The most plaintext one TLS record carries (RFC 8446 5.1, RFC 5246 6.2.1).
    static let recordPlaintextSize = 16 * 1024

    /// The server side of an accepted connection.
    convenience init(context: TLSServerContext) throws(TLSConnectionError) {
        try self.init(sslContext: context.sslContext, serverContext: context, clientContext: nil, sessionKey: "")
        SSL_set_accept_state(ssl)
    }

    /// The client side of a connection to `serverName` (a DNS name, or an IP address literal):
    /// sends it as SNI (names only), verifies the certificate against it, resumes a session
    /// stored for `sessionKey` if there is one.
    convenience init(context: TLSClientContext, serverName: String, sessionKey: String) throws(TLSConnectionError) {
        try self.init(sslContext: context.sslContext, serverContext: nil, clientContext: context, sessionKey: sessionKey)
        SSL_set_connect_state(ssl)
        OpenSSLErrorStack.clear()
        if TLSClientContext.isIPAddress(serverName) {
            // RFC 6066: no SNI for address literals; the certificate must name the address.
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1 else {
                throw TLSConnectionError(.connectionSetupFailed, verificationDetail: "IP address '\(serverName)' refused")
            }
        } else {
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            guard reprise_SSL_set_tlsext_host_name(ssl, serverName) == 1, SSL_set1_host(ssl, serverName) == 1 else {
                throw TLSConnectionError(.connectionSetupFailed, verificationDetail: "server name '\(serverName)' refused")
            }
        }
        // The session callback finds this connection (and its key) through the SSL's app data.
        _ = SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
        context.resumeSession(for: sessionKey, on: ssl)
    }

    private init(sslContext: OpaquePointer, serverContext: TLSServerContext?, clientContext: TLSClientContext?, sessionKey: String) throws(TLSConnectionError) {
        OpenSSLErrorStack.clear()
        guard let ssl = SSL_new(sslContext) else {
            throw TLSConnectionError(.connectionSetupFailed)
        }
        let network: ByteBufferBIO
        do {
            network = try ByteBufferBIO()
        } catch {
            SSL_free(ssl)
            throw error
        }
        // One BIO both ways: SSL_set_bio takes over one reference for the two roles, and
        // `network` keeps its own, so the SSL can be freed first (see `deinit`).
        BIO_up_ref(network.bio)
        SSL_set_bio(ssl, network.bio, network.bio)
        self.serverContext = serverContext
        self.clientContext = clientContext
        self.sessionKey = sessionKey
        self.ssl = ssl
        self.network = network
    }

    deinit {
        // Before `network` is released: SSL_free drops the SSL's reference to the BIO, and
        // nothing may call into the BIO after its Swift side is gone.
        SSL_free(ssl)
    }

    /// Ciphertext received and not yet consumed by OpenSSL.
    var bufferedCiphertextCount: Int { network.inboundByteCount }

    /// Ciphertext produced and not yet taken for the network.
    var pendingCiphertextCount: Int { network.outboundByteCount }

    /// Makes the buffers of outbound ciphertext (set to the channel's when the handler is added).
    var allocator: ByteBufferAllocator {
        get { network.allocator }
        set { network.allocator = newValue }
    }

    /// Holds one socket read for OpenSSL (no copy: OpenSSL reads records straight out of it).
    func feed(_ ciphertext: ByteBuffer) {
        network.receive(ciphertext)
    }

    func handshake() -> HandshakeResult {
        OpenSSLErrorStack.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .complete }
        let error = SSL_get_error(ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .needsMoreCiphertext
        default:
            if clientContext != nil, let refused = certificateFailure(sslErrorCode: error) { return .failed(refused) }
            return .failed(TLSConnectionError(.handshakeFailed, sslErrorCode: error))
        }
    }

    /// Client side, after a failed handshake: the certificate check that failed, if one did.
    private func certificateFailure(sslErrorCode: Int32) -> TLSConnectionError? {
        let result = SSL_get_verify_result(ssl)
        guard result != Int(X509_V_OK) else { return nil }
        let detail = X509_verify_cert_error_string(result).map { String(cString: $0) } ?? "verify error \(result)"
        let kind: TLSConnectionError.Kind = switch Int32(truncatingIfNeeded: result) {
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID: .certificateExpired
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH: .certificateHostnameMismatch
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
             X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
             X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: .certificateUntrusted
        default: .certificateRejected
        }
        return TLSConnectionError(kind, sslErrorCode: sslErrorCode, verificationDetail: detail)
    }

    /// Decrypts at most one record's worth of plaintext (up to `maximumBytes`).
    ///
    /// The buffer is sized to what can come out, not to a whole record: plaintext is never
    /// longer than the ciphertext it is decrypted from, which is what OpenSSL holds
    /// (`SSL_pending`, and a partly received record: `SSL_has_pending`) plus what waits in the
    /// inbound BIO. With nothing held and nothing waiting, `SSL_read` could only ask for more, so
    /// no buffer is made at all (the decrypt loop's last call, once per socket read). The buffer
    /// is the previous one's storage when the pipeline released it (see `ReusableBuffer`).
    func read(allocator: ByteBufferAllocator, maximumBytes: Int = recordPlaintextSize) -> ReadResult {
        let waiting = bufferedCiphertextCount
        let holdsPartialRecord = SSL_has_pending(ssl) == 1
        guard waiting > 0 || holdsPartialRecord else { return .needsMoreCiphertext }
        // A partial record's received part is not counted by either figure: allow a whole record.
        let capacity = holdsPartialRecord ? maximumBytes : min(maximumBytes, waiting + Int(SSL_pending(ssl)))
        var buffer = plaintext.take(minimumCapacity: capacity, allocator: allocator)
        OpenSSLErrorStack.clear()
        var error: Int32 = 0
        let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { raw in
            let result = SSL_read(ssl, raw.baseAddress, Int32(min(raw.count, maximumBytes)))
            if result <= 0 {
                error = SSL_get_error(ssl, result)
                return 0
            }
            return Int(result)
        }
        if count > 0 {
            plaintext.keep(buffer)
            return .plaintext(buffer)
        }
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .needsMoreCiphertext
        case SSL_ERROR_ZERO_RETURN:
            return .closedByPeer
        default:
            return .failed(TLSConnectionError(.readFailed, sslErrorCode: error))
        }
    }

    /// Encrypts all of `plaintext` into the outbound buffer (which never refuses a write).
    func write(_ plaintext: ByteBuffer) -> TLSConnectionError? {
        plaintext.withUnsafeReadableBytes { bytes in write(bytes) }
    }

    /// Encrypts `pieces` (`byteCount` bytes in all) as if they were one write, so that what fits
    /// one record goes out as one record. They are joined in a temporary buffer (on the stack
    /// when the thread has room: no allocation), which OpenSSL copies from before returning.
    func write(joining pieces: some Sequence<ByteBuffer>, byteCount: Int) -> TLSConnectionError? {
        withUnsafeTemporaryAllocation(byteCount: byteCount, alignment: 1) { scratch in
            var offset = 0
            for piece in pieces {
                piece.withUnsafeReadableBytes { bytes in
                    guard let source = bytes.baseAddress, offset + bytes.count <= byteCount else { return }
                    (scratch.baseAddress! + offset).copyMemory(from: source, byteCount: bytes.count)
                    offset += bytes.count
                }
            }
            return write(UnsafeRawBufferPointer(rebasing: scratch[0..<offset]))
        }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) -> TLSConnectionError? {
        var offset = 0
        while offset < bytes.count {
            OpenSSLErrorStack.clear()
            let result = SSL_write(ssl, bytes.baseAddress! + offset, Int32(bytes.count - offset))
            if result <= 0 {
                return TLSConnectionError(.writeFailed, sslErrorCode: SSL_get_error(ssl, result))
            }
            offset += Int(result)
        }
        return nil
    }

    /// Queues our `close_notify`. Failure is irrelevant: the connection closes either way.
    func shutdown() {
        OpenSSLErrorStack.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrorStack.clear()
    }

    /// The ciphertext OpenSSL produced since the last call (everything it wrote, in one
    /// buffer), or nil if there is none.
    func takeCiphertext() -> ByteBuffer? {
        network.takeOutbound()
    }

    /// What the handshake agreed on; call after it completed.
    func negotiatedParameters() -> TLSHandshakeCompleted {
        let version = SSL_get_version(ssl).map { String(cString: $0) } ?? ""
        let cipher = SSL_get_current_cipher(ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? ""
        var alpnPointer: UnsafePointer<UInt8>?
        var alpnLength: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &alpnPointer, &alpnLength)
        let alpn = alpnPointer.map { String(decoding: UnsafeBufferPointer(start: $0, count: Int(alpnLength)), as: UTF8.self) }
        var peerSubject: String?
        if let peer = SSL_get1_peer_certificate(ssl) {
            peerSubject = TLSServerContext.oneLineSubject(of: peer)
            X509_free(peer)
        }
        return TLSHandshakeCompleted(
            protocolVersion: version,
            cipher: cipher,
            alpnProtocol: alpn,
            peerCertificateSubject: peerSubject,
            serverCertificateSerial: serverContext?.certificateSerial ?? "",
            sessionReused: SSL_session_reused(ssl) == 1
        )
    }

    /// Client side: what the handshake agreed on; call after it completed.
    func negotiatedClientParameters() -> TLSClientHandshakeCompleted {
        let server = negotiatedParameters()
        return TLSClientHandshakeCompleted(
            protocolVersion: server.protocolVersion,
            cipher: server.cipher,
            alpnProtocol: server.alpnProtocol,
            serverCertificateSubject: server.peerCertificateSubject,
            sessionReused: server.sessionReused
        )
    }
}
