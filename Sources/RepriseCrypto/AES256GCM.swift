import COpenSSL

/// AES-256-GCM through libcrypto's `EVP_CIPHER` interface: authenticated encryption with
/// associated data. A sealed message is the ciphertext followed by the 16-byte tag; opening
/// checks the tag (over the ciphertext and the associated data) before returning anything.
///
/// Stateless: each call makes and frees its own `EVP_CIPHER_CTX`, so it is safe from any thread.
public enum AES256GCM {
    public static let keyByteCount = 32
    public static let nonceByteCount = 12
    public static let tagByteCount = 16

    /// `plaintext` encrypted under `key` with `nonce` (never reuse a nonce with one key), bound to
    /// `associatedData`: ciphertext then tag.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8]) -> [UInt8] {
        precondition(key.count == keyByteCount && nonce.count == nonceByteCount, "AES-256-GCM takes a 32-byte key and a 12-byte nonce")
        let context = nonce.withUnsafeBufferPointer { makeContext(key: key, nonce: $0.baseAddress!, encrypt: true) }
        defer { EVP_CIPHER_CTX_free(context) }
        var length: Int32 = 0
        if !associatedData.isEmpty {
            guard EVP_EncryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
                fatalError("EVP_EncryptUpdate(aad) failed: \(OpenSSLErrorStack.drain())")
            }
        }
        var output = [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        var written = 0
        if !plaintext.isEmpty {
            let ok = output.withUnsafeMutableBufferPointer { out in
                EVP_EncryptUpdate(context, out.baseAddress, &length, plaintext, Int32(plaintext.count))
            }
            guard ok == 1 else { fatalError("EVP_EncryptUpdate failed: \(OpenSSLErrorStack.drain())") }
            written = Int(length)
        }
        let finished = output.withUnsafeMutableBufferPointer { out in
            EVP_EncryptFinal_ex(context, out.baseAddress! + written, &length)
        }
        guard finished == 1 else { fatalError("EVP_EncryptFinal_ex failed: \(OpenSSLErrorStack.drain())") }
        written += Int(length)
        let tagged = output.withUnsafeMutableBufferPointer { out in
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(tagByteCount), out.baseAddress! + written)
        }
        guard tagged == 1 else { fatalError("EVP_CTRL_AEAD_GET_TAG failed: \(OpenSSLErrorStack.drain())") }
        return output
    }

    /// The plaintext of `sealed` (ciphertext then tag), or `AES256GCMError.authenticationFailed`
    /// when the tag does not match: a wrong key, a changed byte, other associated data.
    public static func open(_ sealed: ArraySlice<UInt8>, key: [UInt8], nonce: [UInt8], associatedData: [UInt8]) throws(AES256GCMError) -> [UInt8] {
        guard sealed.count >= tagByteCount else { throw .tooShort(sealed.count) }
        var output = [UInt8](repeating: 0, count: sealed.count - tagByteCount)
        let opened = sealed.withUnsafeBytes { sealed in
            nonce.withUnsafeBytes { nonce in
                associatedData.withUnsafeBytes { associatedData in
                    output.withUnsafeMutableBytes { output in
                        Result { () throws(AES256GCMError) in try open(sealed, key: key, nonce: nonce, associatedData: associatedData, into: output) }
                    }
                }
            }
        }
        try opened.get()
        return output
    }

    /// As `open`, writing the plaintext into `output` (at least `sealed.count - tagByteCount`
    /// bytes; nothing else is allocated): for a caller that decrypts straight into the buffer it
    /// serves from. What `output` holds is only to be read when this returns without throwing.
    public static func open(
        _ sealed: UnsafeRawBufferPointer, key: [UInt8], nonce: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws(AES256GCMError) {
        precondition(key.count == keyByteCount && nonce.count == nonceByteCount, "AES-256-GCM takes a 32-byte key and a 12-byte nonce")
        guard sealed.count >= tagByteCount else { throw .tooShort(sealed.count) }
        let ciphertextCount = sealed.count - tagByteCount
        precondition(output.count >= ciphertextCount, "the output holds the plaintext")
        let context = makeContext(key: key, nonce: nonce.baseAddress!.assumingMemoryBound(to: UInt8.self), encrypt: false)
        defer { EVP_CIPHER_CTX_free(context) }
        var length: Int32 = 0
        if !associatedData.isEmpty {
            guard EVP_DecryptUpdate(context, nil, &length, associatedData.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(associatedData.count)) == 1 else {
                OpenSSLErrorStack.clear()
                throw .authenticationFailed
            }
        }
        if ciphertextCount > 0 {
            let ok = EVP_DecryptUpdate(
                context, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &length,
                sealed.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(ciphertextCount)
            )
            // GCM is a stream mode: every ciphertext byte gives one plaintext byte at once.
            guard ok == 1, Int(length) == ciphertextCount else {
                OpenSSLErrorStack.clear()
                throw .authenticationFailed
            }
        }
        // The tag and the final block's scratch live on the stack (GCM writes nothing at the end).
        let verified = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * tagByteCount) { scratch -> Bool in
            let tag = UnsafeMutableRawBufferPointer(scratch).baseAddress!
            tag.copyMemory(from: sealed.baseAddress! + ciphertextCount, byteCount: tagByteCount)
            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(tagByteCount), tag) == 1 else { return false }
            return EVP_DecryptFinal_ex(context, scratch.baseAddress! + tagByteCount, &length) == 1
        }
        guard verified else {
            OpenSSLErrorStack.clear()
            throw .authenticationFailed
        }
    }

    /// Fetched once: with OpenSSL 3, `EVP_aes_256_gcm()` makes every init look the
    /// implementation up again (an implicit fetch), which costs more than sealing a small entry.
    private static let cipher: FetchedCipher = {
        guard let pointer = EVP_CIPHER_fetch(nil, "AES-256-GCM", nil) else {
            fatalError("EVP_CIPHER_fetch(AES-256-GCM) failed: \(OpenSSLErrorStack.drain())")
        }
        return FetchedCipher(pointer: pointer)
    }()

    private static func makeContext(key: [UInt8], nonce: UnsafePointer<UInt8>, encrypt: Bool) -> OpaquePointer {
        guard let context = EVP_CIPHER_CTX_new() else { fatalError("EVP_CIPHER_CTX_new failed: \(OpenSSLErrorStack.drain())") }
        // GCM's default IV length is 12 bytes, the nonce's: no EVP_CTRL_GCM_SET_IVLEN needed.
        let ok = encrypt
            ? EVP_EncryptInit_ex(context, cipher.pointer, nil, key, nonce)
            : EVP_DecryptInit_ex(context, cipher.pointer, nil, key, nonce)
        guard ok == 1 else { fatalError("EVP_\(encrypt ? "Encrypt" : "Decrypt")Init_ex(aes-256-gcm) failed: \(OpenSSLErrorStack.drain())") }
        return context
    }
}

/// Why `AES256GCM.open` refused a message.
public enum AES256GCMError: Error, Equatable, CustomStringConvertible {
    /// Shorter than a tag.
    case tooShort(Int)
    /// The tag does not verify: wrong key, tampered bytes, or other associated data.
    case authenticationFailed

    public var description: String {
        switch self {
        case .tooShort(let count): "sealed message of \(count) bytes is shorter than a GCM tag"
        case .authenticationFailed: "GCM tag mismatch (wrong key, tampered bytes, or another key's entry)"
        }
    }
}

/// The process-wide fetched AES-256-GCM implementation: immutable once fetched, and libcrypto
/// allows one `EVP_CIPHER` to be used by any number of contexts on any threads.
private struct FetchedCipher: @unchecked Sendable {
    let pointer: OpaquePointer
}
