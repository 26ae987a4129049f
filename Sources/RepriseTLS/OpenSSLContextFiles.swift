import RepriseCrypto
import COpenSSL

/// Loading PEM files into an `SSL_CTX`, shared by the server context (its certificate, key and
/// client CAs) and the client context (its trusted CAs and the optional client certificate).
/// Every failure names the file.
enum OpenSSLContextFiles {
    /// Leaf first, then the intermediates. Returns the leaf (owned by the context).
    static func loadCertificateChain(_ file: PEMFile, into context: OpaquePointer) throws(TLSConfigurationError) -> OpaquePointer {
        try file.withMemoryBIO { bio throws(TLSConfigurationError) in
            OpenSSLErrorStack.clear()
            guard let leaf = PEM_read_bio_X509_AUX(bio, nil, nil, nil) else {
                throw TLSConfigurationError(.badCertificate, path: file.path, detail: "no PEM certificate found")
            }
            defer { X509_free(leaf) }  // SSL_CTX_use_certificate takes its own reference
            guard SSL_CTX_use_certificate(context, leaf) == 1 else {
                throw TLSConfigurationError(.badCertificate, path: file.path, detail: "certificate refused (key too small or unsupported?)")
            }
            while let intermediate = PEM_read_bio_X509(bio, nil, nil, nil) {
                guard reprise_SSL_CTX_add0_chain_cert(context, intermediate) == 1 else {
                    X509_free(intermediate)
                    throw TLSConfigurationError(.badCertificate, path: file.path, detail: "intermediate certificate refused")
                }
            }
            // The loop ends on "no start line", which is the normal end of the file; a PEM block
            // that is present but broken is a bad file.
            let trailing = OpenSSLErrorStack.drain()
            if trailing.contains(where: { !$0.contains("no start line") }) {
                throw TLSConfigurationError(.badCertificate, path: file.path, detail: "broken certificate after the leaf", openSSLErrors: trailing)
            }
            guard let stored = SSL_CTX_get0_certificate(context) else {
                throw TLSConfigurationError(.badCertificate, path: file.path, detail: "certificate not stored")
            }
            return stored
        }
    }

    static func loadPrivateKey(_ file: PEMFile, matching leaf: OpaquePointer, into context: OpaquePointer) throws(TLSConfigurationError) {
        try file.withMemoryBIO { bio throws(TLSConfigurationError) in
            OpenSSLErrorStack.clear()
            // An empty passphrase instead of a NULL one: OpenSSL would otherwise prompt on the
            // terminal for an encrypted key. Encrypted keys are therefore refused.
            let key: OpaquePointer? = "".withCString { empty in
                PEM_read_bio_PrivateKey(bio, nil, nil, UnsafeMutableRawPointer(mutating: empty))
            }
            guard let key else {
                throw TLSConfigurationError(.badPrivateKey, path: file.path, detail: "no unencrypted PEM private key found")
            }
            defer { EVP_PKEY_free(key) }
            guard X509_check_private_key(leaf, key) == 1 else {
                throw TLSConfigurationError(.keyMismatch, path: file.path, detail: "private key does not match the certificate")
            }
            guard SSL_CTX_use_PrivateKey(context, key) == 1, SSL_CTX_check_private_key(context) == 1 else {
                throw TLSConfigurationError(.keyMismatch, path: file.path, detail: "private key refused")
            }
        }
    }

    /// Adds every certificate of a PEM bundle to the context's trust store; with
    /// `alsoAdvertisingToClients`, also to the CA list a server sends in its certificate request.
    static func trustCertificateAuthorities(_ file: PEMFile, in context: OpaquePointer, alsoAdvertisingToClients: Bool) throws(TLSConfigurationError) {
        try file.withMemoryBIO { bio throws(TLSConfigurationError) in
            OpenSSLErrorStack.clear()
            guard let store = SSL_CTX_get_cert_store(context) else {
                throw TLSConfigurationError(.badCertificateAuthority, path: file.path, detail: "cannot get the CA store")
            }
            var count = 0
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                defer { X509_free(certificate) }
                // Both take their own references.
                guard X509_STORE_add_cert(store, certificate) == 1,
                      !alsoAdvertisingToClients || SSL_CTX_add_client_CA(context, certificate) == 1 else {
                    throw TLSConfigurationError(.badCertificateAuthority, path: file.path, detail: "CA certificate refused")
                }
                count += 1
            }
            let trailing = OpenSSLErrorStack.drain()
            if count == 0 || trailing.contains(where: { !$0.contains("no start line") }) {
                throw TLSConfigurationError(.badCertificateAuthority, path: file.path, detail: count == 0 ? "no PEM certificate found" : "broken certificate in bundle", openSSLErrors: trailing)
            }
        }
    }
}
