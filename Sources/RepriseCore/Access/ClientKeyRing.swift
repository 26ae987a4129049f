import RepriseCrypto

/// The issued keys, found by the SHA-256 of a presented key. Every stored digest is compared,
/// each in constant time, whatever matched: the time taken tells nothing of which key (or how
/// much of one) matched. Only digests are held: the keys themselves never are.
public struct ClientKeyRing: Sendable {
    private let keys: [ClientKey]

    public init(_ configs: [ClientKeyConfig]) {
        keys = configs.map(ClientKey.init)
    }

    public var count: Int { keys.count }

    /// The key whose digest is SHA-256(`presented`), or nil.
    public func key<Presented: StringProtocol>(presented: Presented, hasher: SHA256Hasher) -> ClientKey? {
        hasher.update(presented.utf8)
        let digest = hasher.finalize()
        var found: ClientKey?
        for key in keys where ConstantTime.equals(key.digest, digest) {
            found = key
        }
        return found
    }
}
