import COpenSSL

/// SHA-256 over bytes, through libcrypto's EVP interface.
///
/// One hasher owns one `EVP_MD_CTX` and may be reused (`EVP_DigestInit_ex` resets it), so a
/// per-event-loop hasher costs no allocation per hash. Not thread-safe: one owner at a time.
public final class SHA256Hasher {
    public static let digestByteCount = 32

    private let context: OpaquePointer

    public init() {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("EVP_MD_CTX_new failed: out of memory")
        }
        self.context = context
        reset()
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    /// Starts a new digest, dropping whatever was fed before.
    public func reset() {
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("EVP_DigestInit_ex(SHA-256) failed: \(OpenSSLErrorStack.drain())")
        }
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        guard EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1 else {
            fatalError("EVP_DigestUpdate failed: \(OpenSSLErrorStack.drain())")
        }
    }

    public func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if handled == nil {
            Array(bytes).withUnsafeBytes { update($0) }
        }
    }

    /// Finishes the digest and resets the hasher for the next one.
    public func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Self.digestByteCount)
        var length: UInt32 = 0
        let ok = digest.withUnsafeMutableBufferPointer {
            EVP_DigestFinal_ex(context, $0.baseAddress, &length)
        }
        guard ok == 1, length == Self.digestByteCount else {
            fatalError("EVP_DigestFinal_ex failed: \(OpenSSLErrorStack.drain())")
        }
        reset()
        return digest
    }

    /// One-shot convenience.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        let hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

extension Collection where Element == UInt8 {
    /// Lower-case hexadecimal. Inlinable so it is specialized where it is used: a cache key is
    /// hex, computed on every cacheable request.
    @inlinable
    public var hexString: String {
        String(unsafeUninitializedCapacity: count * 2) { characters in
            var written = 0
            for byte in self {
                characters[written] = hexDigit(byte >> 4)
                characters[written + 1] = hexDigit(byte & 0x0F)
                written += 2
            }
            return written
        }
    }
}

/// The lower-case ASCII hex digit of a nibble (0...15).
@inlinable
func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
}
