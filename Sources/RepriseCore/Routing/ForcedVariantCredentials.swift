import RepriseCrypto

/// The credentials allowed to choose their variant with `X-Reprise-Variant`
/// (`routing.force_variant_credentials`), kept as SHA-256 digests and compared in constant time:
/// neither memory nor timing gives a key away.
public struct ForcedVariantCredentials: Sendable, Equatable {
    private let digests: [[UInt8]]

    public init(configured: [String]) {
        digests = configured.compactMap(Self.hash(configured:))
    }

    public var isEmpty: Bool { digests.isEmpty }

    /// The digest of one configured entry: `sha256:HEX`, or the key itself hashed; nil when empty
    /// or malformed.
    static func hash(configured entry: String) -> [UInt8]? {
        if entry.lowercased().hasPrefix("sha256:") {
            let hex = entry.utf8.dropFirst("sha256:".count)
            guard hex.count == 64 else { return nil }
            return Hex.decode(hex)
        }
        guard !entry.isEmpty else { return nil }
        return SHA256Hasher.hash(entry.utf8)
    }

    /// True when `credential` (an API key as sent, after `Bearer `) is one of the configured.
    /// Every digest is compared in full, whichever matches.
    public func allows(credential: String) -> Bool {
        guard !digests.isEmpty, !credential.isEmpty else { return false }
        let presented = SHA256Hasher.hash(credential.utf8)
        var matched = false
        for digest in digests {
            let equal = ConstantTime.equals(digest, presented)
            matched = matched || equal
        }
        return matched
    }

    /// The API key of a request's credential headers: `Authorization: Bearer KEY` (or the bare
    /// value of another scheme), `api-key` or `x-api-key`; the first one present. Read on
    /// every routed request: byte comparisons and a slice, nothing allocated.
    public static func credential(forEachHeader: (_ visit: (String, String) -> Void) -> Void) -> Substring? {
        var found: Substring?
        forEachHeader { name, value in
            if found == nil { found = credential(headerName: name, value: value) }
        }
        return found
    }

    /// The API key one header carries when it is a credential header, else nil (the first
    /// header for which this is non-nil is the request's credential).
    public static func credential(headerName name: String, value: String) -> Substring? {
        switch CredentialHeaders.Name(header: name) {
        case .authorization?: CredentialHeaders.token(of: value, bearer: .optional)
        case .apiKey?, .xAPIKey?: CredentialHeaders.token(of: value, bearer: .kept)
        default: nil
        }
    }

    /// `Authorization`, `api-key` or `x-api-key` (any case): the headers `credential` reads.
    public static func isCredential(headerName name: String) -> Bool {
        var name = name
        return name.withUTF8 { isCredential(headerName: $0) }
    }

    /// The same over the name's bytes (a request head read in place).
    public static func isCredential(headerName name: UnsafeBufferPointer<UInt8>) -> Bool {
        switch CredentialHeaders.Name(header: name) {
        case .authorization?, .apiKey?, .xAPIKey?: true
        default: false
        }
    }
}
