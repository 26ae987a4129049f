import COpenSSL

/// HMAC-SHA-256 over bytes, through libcrypto's `EVP_MAC` interface (OpenSSL 3).
///
/// One instance owns one `EVP_MAC_CTX` keyed once; `finalize()` re-initialises it with the same
/// key, so a per-event-loop instance costs no allocation per MAC. Not thread-safe: one owner at a
/// time (like `SHA256Hasher`).
public final class HMACSHA256 {
    public static let macByteCount = 32

    private let mac: OpaquePointer
    private let context: OpaquePointer
    private let key: [UInt8]

    /// - Parameter key: the secret; any length (RFC 2104 hashes keys longer than the block size).
    public init<Key: Sequence>(key: Key) where Key.Element == UInt8 {
        self.key = Array(key)
        OpenSSLErrorStack.clear()
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else {
            fatalError("EVP_MAC_fetch(HMAC) failed: \(OpenSSLErrorStack.drain())")
        }
        guard let context = EVP_MAC_CTX_new(mac) else {
            EVP_MAC_free(mac)
            fatalError("EVP_MAC_CTX_new failed: \(OpenSSLErrorStack.drain())")
        }
        self.mac = mac
        self.context = context
        // The digest parameter is set once; `EVP_MAC_init` keeps it across re-initialisations.
        let ok = "digest".withCString { name in
            "SHA256".withCString { value in
                var params = [
                    OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: value), 0),
                    OSSL_PARAM_construct_end(),
                ]
                return EVP_MAC_CTX_set_params(context, &params)
            }
        }
        guard ok == 1 else {
            fatalError("EVP_MAC_CTX_set_params(digest=SHA256) failed: \(OpenSSLErrorStack.drain())")
        }
        reset()
    }

    deinit {
        EVP_MAC_CTX_free(context)
        EVP_MAC_free(mac)
    }

    /// Starts a new MAC with the same key, dropping whatever was fed before.
    public func reset() {
        // An empty key is legal HMAC; libcrypto wants a non-null pointer for it.
        let ok = key.withUnsafeBufferPointer { buffer -> Int32 in
            var zero: UInt8 = 0
            if let base = buffer.baseAddress, buffer.count > 0 {
                return EVP_MAC_init(context, base, buffer.count, nil)
            }
            return EVP_MAC_init(context, &zero, 0, nil)
        }
        guard ok == 1 else {
            fatalError("EVP_MAC_init(HMAC-SHA256) failed: \(OpenSSLErrorStack.drain())")
        }
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, let base = bytes.baseAddress else { return }
        guard EVP_MAC_update(context, base.assumingMemoryBound(to: UInt8.self), bytes.count) == 1 else {
            fatalError("EVP_MAC_update failed: \(OpenSSLErrorStack.drain())")
        }
    }

    public func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if handled == nil {
            Array(bytes).withUnsafeBytes { update($0) }
        }
    }

    /// Finishes the MAC and re-initialises the context (same key) for the next one.
    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.macByteCount)
        var length = 0
        let ok = out.withUnsafeMutableBufferPointer {
            EVP_MAC_final(context, $0.baseAddress, &length, Self.macByteCount)
        }
        guard ok == 1, length == Self.macByteCount else {
            fatalError("EVP_MAC_final failed: \(OpenSSLErrorStack.drain())")
        }
        reset()
        return out
    }

    /// One-shot convenience.
    public static func mac<Key: Sequence, Bytes: Sequence>(key: Key, _ bytes: Bytes) -> [UInt8]
    where Key.Element == UInt8, Bytes.Element == UInt8 {
        let hmac = HMACSHA256(key: key)
        hmac.update(bytes)
        return hmac.finalize()
    }
}
