import COpenSSL

/// Bytes from OpenSSL's CSPRNG (`RAND_bytes`), for nonces.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else {
            fatalError("RAND_bytes failed: \(OpenSSLErrorStack.drain())")
        }
        return bytes
    }
}
