import RepriseCrypto
import COpenSSL

/// Owns one configured OpenSSL `SSL_CTX` (freed exactly once, in `deinit`). Build it off the
/// event loop: it reads and parses files. Connections made from it keep it alive.
///
/// `@unchecked Sendable`: the `SSL_CTX` is fully configured in `init` and never changed after;
/// OpenSSL documents a configured `SSL_CTX` as safe to share between threads creating `SSL`
/// objects (its reference counts and session cache are internally locked). The ALPN list the
/// callback reads is immutable and lives as long as this object.
public final class TLSServerContext: @unchecked Sendable {
    public let configuration: TLSServerConfiguration
    /// Subject of the leaf certificate, one-line form (for logs after a reload).
    public let certificateSubject: String
    /// Serial number of the leaf certificate, hex (for logs after a reload).
    public let certificateSerial: String

    let sslContext: OpaquePointer
    /// ALPN protocols in wire format (length-prefixed), read by the select callback.
    fileprivate let alpnWireFormat: UnsafeMutableBufferPointer<UInt8>

    public init(configuration: TLSServerConfiguration) throws(TLSConfigurationError) {
        self.configuration = configuration
        let certificateFile = try PEMFile(path: configuration.certificateChainPath)
        let keyFile = try PEMFile(path: configuration.privateKeyPath)
        let caFile = try configuration.clientCertificateAuthorityPath.map { path throws(TLSConfigurationError) in try PEMFile(path: path) }

        let wire = try ALPNWireFormat.encode(configuration.alpnProtocols)
        OpenSSLErrorStack.clear()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSConfigurationError(.badSetting, path: nil, detail: "SSL_CTX_new failed")
        }
        let alpn = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(wire.count, 1))
        _ = alpn.initialize(from: wire)
        do throws(TLSConfigurationError) {
            let leaf = try OpenSSLContextFiles.loadCertificateChain(certificateFile, into: context)
            try OpenSSLContextFiles.loadPrivateKey(keyFile, matching: leaf, into: context)
            try Self.applyProtocolSettings(configuration, to: context)
            if let caFile { try Self.requireClientCertificates(caFile, on: context) }
            self.certificateSubject = Self.oneLineSubject(of: leaf)
            self.certificateSerial = Self.hexSerial(of: leaf)
        } catch {
            SSL_CTX_free(context)
            alpn.deallocate()
            throw error
        }
        self.sslContext = context
        self.alpnWireFormat = UnsafeMutableBufferPointer(start: alpn.baseAddress, count: wire.count)
        SSL_CTX_set_alpn_select_cb(context, alpnSelectCallback, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        SSL_CTX_free(sslContext)
        alpnWireFormat.baseAddress?.deallocate()
    }

    // MARK: - Building steps

    private static func applyProtocolSettings(_ configuration: TLSServerConfiguration, to context: OpaquePointer) throws(TLSConfigurationError) {
        OpenSSLErrorStack.clear()
        let minimum: Int32 = switch configuration.minimumVersion {
        case .tls12: TLS1_2_VERSION
        case .tls13: TLS1_3_VERSION
        }
        guard reprise_SSL_CTX_set_min_proto_version(context, minimum) == 1 else {
            throw TLSConfigurationError(.badSetting, path: nil, detail: "minimum version \(configuration.minimumVersion.rawValue) refused")
        }
        SSL_CTX_set_options(
            context,
            reprise_SSL_OP_NO_RENEGOTIATION() | reprise_SSL_OP_NO_COMPRESSION() | reprise_SSL_OP_CIPHER_SERVER_PREFERENCE()
        )
        guard SSL_CTX_set_cipher_list(context, configuration.tls12CipherList) == 1 else {
            throw TLSConfigurationError(.badSetting, path: nil, detail: "TLS 1.2 cipher list '\(configuration.tls12CipherList)' refused")
        }
        guard SSL_CTX_set_ciphersuites(context, configuration.tls13Ciphersuites) == 1 else {
            throw TLSConfigurationError(.badSetting, path: nil, detail: "TLS 1.3 ciphersuites '\(configuration.tls13Ciphersuites)' refused")
        }
        guard reprise_SSL_CTX_set1_groups_list(context, configuration.groups) == 1 else {
            throw TLSConfigurationError(.badSetting, path: nil, detail: "groups '\(configuration.groups)' refused")
        }
        // Server-side session cache for TLS 1.2 resumption; TLS 1.3 tickets stay on (default).
        _ = reprise_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_SERVER))
        let sessionContext = Array("reprise".utf8)
        _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
        // Idle connections give their read/write buffers back.
        _ = reprise_SSL_CTX_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS))
    }

    private static func requireClientCertificates(_ file: PEMFile, on context: OpaquePointer) throws(TLSConfigurationError) {
        // The store verifies client chains; the client CA list tells clients which CAs we accept.
        try OpenSSLContextFiles.trustCertificateAuthorities(file, in: context, alsoAdvertisingToClients: true)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
    }

    static func oneLineSubject(of certificate: OpaquePointer) -> String {
        guard let line = X509_NAME_oneline(X509_get_subject_name(certificate), nil, 0) else { return "" }
        defer { reprise_OPENSSL_free(line) }
        return String(cString: line)
    }

    static func hexSerial(of certificate: OpaquePointer) -> String {
        guard let serial = X509_get0_serialNumber(certificate), let number = ASN1_INTEGER_to_BN(serial, nil) else { return "" }
        defer { BN_free(number) }
        guard let hex = BN_bn2hex(number) else { return "" }
        defer { reprise_OPENSSL_free(hex) }
        return String(cString: hex)
    }
}

/// Picks the first of the server's protocols the client also offers; a client that shares none
/// (for example one offering only `h2`) is refused with `no_application_protocol`, as RFC 7301
/// asks. `argument` is the unretained `TLSServerContext`: every `SSL` made from it holds the
/// context strongly (see `TLSConnection`), so it outlives the handshake.
private func alpnSelectCallback(
    ssl: OpaquePointer?,
    out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    outLength: UnsafeMutablePointer<UInt8>?,
    clientList: UnsafePointer<UInt8>?,
    clientLength: UInt32,
    argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let out, let outLength, let clientList, let argument else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    let context = Unmanaged<TLSServerContext>.fromOpaque(argument).takeUnretainedValue()
    let client = UnsafeBufferPointer(start: clientList, count: Int(clientLength))
    guard let chosen = TLSServerContext.chooseALPN(server: UnsafeBufferPointer(context.alpnWireFormat), client: client) else {
        return SSL_TLSEXT_ERR_ALERT_FATAL
    }
    out.pointee = UnsafePointer(context.alpnWireFormat.baseAddress! + chosen.offset + 1)
    outLength.pointee = UInt8(chosen.length)
    return SSL_TLSEXT_ERR_OK
}

extension TLSServerContext {
    /// Offset (of the length byte) and length of the first server protocol the client offers.
    static func chooseALPN(server: UnsafeBufferPointer<UInt8>, client: UnsafeBufferPointer<UInt8>) -> (offset: Int, length: Int)? {
        var serverIndex = 0
        while serverIndex < server.count {
            let length = Int(server[serverIndex])
            let name = server[(serverIndex + 1)..<min(server.count, serverIndex + 1 + length)]
            var clientIndex = 0
            while clientIndex < client.count {
                let clientNameLength = Int(client[clientIndex])
                let end = clientIndex + 1 + clientNameLength
                guard end <= client.count else { break }  // malformed list: stop looking
                if clientNameLength == length && client[(clientIndex + 1)..<end].elementsEqual(name) {
                    return (serverIndex, length)
                }
                clientIndex = end
            }
            serverIndex += 1 + length
        }
        return nil
    }
}
