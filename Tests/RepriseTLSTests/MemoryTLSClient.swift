import COpenSSL

/// Test-only TLS client over memory BIOs: the other end of `OpenSSLServerHandler` in an
/// `EmbeddedChannel`, so handshakes run without sockets.
final class MemoryTLSClient {
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let inbound: OpaquePointer
    private let outbound: OpaquePointer

    init(caFile: String, alpn: [String] = ["http/1.1"], maximumVersion: Int32 = 0) {
        context = SSL_CTX_new(TLS_client_method())!
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        precondition(SSL_CTX_load_verify_locations(context, caFile, nil) == 1)
        if maximumVersion != 0 { _ = reprise_SSL_CTX_set_max_proto_version(context, maximumVersion) }
        ssl = SSL_new(context)!
        inbound = BIO_new(BIO_s_mem())!
        outbound = BIO_new(BIO_s_mem())!
        _ = reprise_BIO_set_mem_eof_return(inbound, -1)
        SSL_set_bio(ssl, inbound, outbound)
        SSL_set_connect_state(ssl)
        _ = reprise_SSL_set_tlsext_host_name(ssl, "localhost")
        _ = SSL_set1_host(ssl, "localhost")
        var wire: [UInt8] = []
        for name in alpn { wire.append(UInt8(name.utf8.count)); wire += Array(name.utf8) }
        if !wire.isEmpty { _ = SSL_set_alpn_protos(ssl, wire, UInt32(wire.count)) }
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// true once the client considers the handshake done.
    func handshake() -> Bool {
        ERR_clear_error()
        return SSL_do_handshake(ssl) == 1
    }

    func feed(_ bytes: [UInt8]) {
        _ = BIO_write(inbound, bytes, Int32(bytes.count))
    }

    func takeCiphertext() -> [UInt8] {
        let pending = Int(BIO_ctrl_pending(outbound))
        guard pending > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: pending)
        let count = BIO_read(outbound, &bytes, Int32(pending))
        return Array(bytes.prefix(Int(max(count, 0))))
    }

    func write(_ text: String) {
        let bytes = Array(text.utf8)
        precondition(SSL_write(ssl, bytes, Int32(bytes.count)) == Int32(bytes.count))
    }

    func readAvailable() -> String {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            ERR_clear_error()
            let count = SSL_read(ssl, &chunk, Int32(chunk.count))
            if count <= 0 { break }
            result += chunk.prefix(Int(count))
        }
        return String(decoding: result, as: UTF8.self)
    }

    var peerCertificateSerial: String {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return "" }
        defer { X509_free(certificate) }
        guard let number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nil) else { return "" }
        defer { BN_free(number) }
        let hex = BN_bn2hex(number)!
        defer { reprise_OPENSSL_free(hex) }
        return String(cString: hex)
    }
}
