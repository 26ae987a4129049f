import RepriseCrypto

/// Encryption at rest for Redis entries (`cache.encryption_key`): AES-256-GCM with a random
/// 96-bit nonce per entry and the Redis key as associated data, so an entry copied to another
/// key does not open.
///
/// Sealed form: `0xA5` | key id (4 bytes: the first bytes of the key's SHA-256) | nonce (12) |
/// ciphertext | tag (16). The newest key seals; every configured key opens (rotation: add the
/// new key in front, keep the old one in `encryption_previous_keys` until its entries expired).
public struct EntrySealer: Sendable {
    public static let marker: UInt8 = 0xA5
    static let keyIDByteCount = 4
    static let headerByteCount = 1 + keyIDByteCount + AES256GCM.nonceByteCount

    struct Key: Sendable {
        let id: [UInt8]
        let bytes: [UInt8]
    }

    /// Newest first: `keys[0]` seals.
    let keys: [Key]

    /// - Parameter keys: 32-byte keys, the one that seals first.
    public init(keys: [[UInt8]]) {
        precondition(!keys.isEmpty && keys.allSatisfy { $0.count == AES256GCM.keyByteCount }, "32-byte keys")
        self.keys = keys.map { Key(id: Array(SHA256Hasher.hash($0).prefix(Self.keyIDByteCount)), bytes: $0) }
    }

    /// The secret cache keys are HMAC-ed with when encryption is on and `cache.secret` is not
    /// set: derived from the oldest key, so adding a newer key keeps every digest (and so every
    /// entry) reachable; dropping that oldest key changes the digests, which empties the cache.
    public var digestSecret: [UInt8] {
        let hmac = HMACSHA256(key: keys[keys.count - 1].bytes)
        hmac.update(Array("reprise cache key digest v1".utf8))
        return hmac.finalize()
    }

    public func seal(_ plaintext: [UInt8], associatedData: [UInt8]) -> [UInt8] {
        let key = keys[0]
        let nonce = SecureRandom.bytes(AES256GCM.nonceByteCount)
        var sealed: [UInt8] = []
        sealed.reserveCapacity(Self.headerByteCount + plaintext.count + AES256GCM.tagByteCount)
        sealed.append(Self.marker)
        sealed.append(contentsOf: key.id)
        sealed.append(contentsOf: nonce)
        sealed.append(contentsOf: AES256GCM.seal(plaintext, key: key.bytes, nonce: nonce, associatedData: associatedData))
        return sealed
    }

    /// The plaintext of a sealed entry; a plaintext entry, a key not configured (any more) or a
    /// tag that does not verify throws: the caller treats it as a miss and never serves it.
    public func open(_ sealed: [UInt8], associatedData: [UInt8]) throws(EntrySealingError) -> [UInt8] {
        var plaintext = [UInt8](repeating: 0, count: max(0, Self.plaintextByteCount(sealedByteCount: sealed.count)))
        let opened = sealed.withUnsafeBytes { sealed in
            associatedData.withUnsafeBytes { associatedData in
                plaintext.withUnsafeMutableBytes { plaintext in
                    Result { () throws(EntrySealingError) in try open(sealed, associatedData: associatedData, into: plaintext) }
                }
            }
        }
        try opened.get()
        return plaintext
    }

    /// The plaintext's size for a sealed entry of `sealedByteCount` bytes (negative: too short to be one).
    public static func plaintextByteCount(sealedByteCount: Int) -> Int {
        sealedByteCount - headerByteCount - AES256GCM.tagByteCount
    }

    /// As `open`, decrypting into `plaintext` (at least `plaintextByteCount` bytes): a Redis hit
    /// opens its entry straight into the buffer it is served from, with no copy around it.
    public func open(
        _ sealed: UnsafeRawBufferPointer, associatedData: UnsafeRawBufferPointer, into plaintext: UnsafeMutableRawBufferPointer
    ) throws(EntrySealingError) {
        guard Self.plaintextByteCount(sealedByteCount: sealed.count) >= 0, sealed[0] == Self.marker else {
            throw .notSealed
        }
        let id = sealed[1 ..< 1 + Self.keyIDByteCount]
        guard let key = keys.first(where: { $0.id.elementsEqual(id) }) else { throw .unknownKey }
        let nonce = UnsafeRawBufferPointer(rebasing: sealed[(1 + Self.keyIDByteCount) ..< Self.headerByteCount])
        do {
            try AES256GCM.open(
                UnsafeRawBufferPointer(rebasing: sealed[Self.headerByteCount...]), key: key.bytes, nonce: nonce,
                associatedData: associatedData, into: plaintext
            )
        } catch {
            throw .authenticationFailed
        }
    }
}

/// Why a Redis entry did not open.
public enum EntrySealingError: Error, Equatable, CustomStringConvertible {
    /// Not in the sealed form (a plaintext entry: written before encryption was on, or forged).
    case notSealed
    /// Sealed with a key that is not configured.
    case unknownKey
    /// The GCM tag does not verify: tampered, or stored under another Redis key.
    case authenticationFailed

    public var description: String {
        switch self {
        case .notSealed: "the entry is not sealed (plaintext entries are refused while encryption is on)"
        case .unknownKey: "the entry was sealed with a key that is not configured"
        case .authenticationFailed: "the entry does not authenticate (tampered, or moved from another key)"
        }
    }
}
