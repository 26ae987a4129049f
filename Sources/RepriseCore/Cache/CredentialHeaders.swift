import RepriseCrypto

/// The credential-bearing headers of one request, as the `credential` namespace sees them: every
/// header an OpenAI-compatible upstream might authenticate with (`Authorization` in any scheme,
/// `api-key`, `x-api-key`, `x-goog-api-key`), every value of a repeated one, in order.
///
/// Anything the upstream could read as a credential must name the tenant: a form left out would
/// put its senders in one shared namespace, served answers the upstream never checked them for.
/// A value of spaces only is no credential (the upstream refuses it like a missing one).
struct CredentialHeaders {
    enum Name: Int, CaseIterable {
        case authorization, apiKey, xAPIKey, xGoogAPIKey

        /// Lower-case, as framed into the digest.
        var text: String {
            switch self {
            case .authorization: "authorization"
            case .apiKey: "api-key"
            case .xAPIKey: "x-api-key"
            case .xGoogAPIKey: "x-goog-api-key"
            }
        }

        /// The credential header `name` is (any case), by length first: most headers of a
        /// request cost one integer comparison here.
        init?(header name: String) {
            var name = name
            guard let found = name.withUTF8({ Name(header: $0) }) else { return nil }
            self = found
        }

        /// The same over the name's bytes (a request head read in place).
        init?(header name: UnsafeBufferPointer<UInt8>) {
            let candidate: Name
            switch name.count {
            case 13: candidate = .authorization
            case 7: candidate = .apiKey
            case 9: candidate = .xAPIKey
            case 14: candidate = .xGoogAPIKey
            default: return nil
            }
            var text = candidate.text
            guard text.withUTF8({ ASCIICase.equal(name, $0) }) else { return nil }
            self = candidate
        }
    }

    /// Credential values in the request.
    let count: Int
    /// The credential when there is exactly one.
    let single: (name: Name, value: String)?

    init(_ forEachHeader: NamespaceMode.HeaderVisitor) {
        var count = 0
        var single: (name: Name, value: String)?
        forEachHeader { name, value in
            guard let kind = Name(header: name), Self.isCredential(value) else { return }
            count += 1
            single = count == 1 ? (kind, value) : nil
        }
        self.count = count
        self.single = single
    }

    var isEmpty: Bool { count == 0 }

    /// The value of the one `Authorization` header when it is the request's only credential
    /// (what the builder's last-value shortcut may compare).
    var singleAuthorization: String? {
        guard let single, single.name == .authorization else { return nil }
        return single.value
    }

    /// The token of the two forms namespaced before every form was (`Authorization: Bearer
    /// <token>` with one space and a token without spaces, or `api-key: <token>` without
    /// surrounding spaces, alone in the request): hashed as then, so their stored answers stay
    /// theirs across the upgrade. Both forms of one token share: it is the same credential.
    var legacyToken: Substring? {
        guard let single else { return nil }
        let value = single.value
        switch single.name {
        case .authorization:
            guard value.utf8.starts(with: "Bearer ".utf8) else { return nil }
            let token = value.dropFirst(7)
            guard !token.isEmpty, !token.utf8.contains(where: Self.isSpace) else { return nil }
            return token
        case .apiKey:
            guard let first = value.utf8.first, let last = value.utf8.last, !Self.isSpace(first), !Self.isSpace(last) else { return nil }
            return value[...]
        case .xAPIKey, .xGoogAPIKey:
            return nil
        }
    }

    /// SHA-256 the namespace is taken from. The legacy forms hash as before
    /// (`reprise-namespace-v1`, NUL, token); every other set of credential headers is framed
    /// under its own tag as (name, value) pairs grouped by name in `Name` order, values in
    /// arrival order, each field length-prefixed: no two different sets frame alike, and none
    /// frames like a legacy token.
    func digest(hasher: SHA256Hasher, _ forEachHeader: NamespaceMode.HeaderVisitor) -> [UInt8] {
        if let token = legacyToken {
            hasher.update("reprise-namespace-v1\u{0}".utf8)
            hasher.update(token.utf8)
            return hasher.finalize()
        }
        hasher.update("reprise-namespace-v2\u{0}".utf8)
        if let single {
            Self.feedPair(name: single.name, value: single.value, into: hasher)
            return hasher.finalize()
        }
        for wanted in Name.allCases {
            forEachHeader { name, value in
                guard Name(header: name) == wanted, Self.isCredential(value) else { return }
                Self.feedPair(name: wanted, value: value, into: hasher)
            }
        }
        return hasher.finalize()
    }

    private static func feedPair(name: Name, value: String, into hasher: SHA256Hasher) {
        feedField(name.text.utf8, into: hasher)
        feedField(value.utf8, into: hasher)
    }

    /// An 8-byte big-endian length, then the bytes.
    static func feedField(_ bytes: String.UTF8View, into hasher: SHA256Hasher) {
        var length = UInt64(bytes.count).bigEndian
        withUnsafeBytes(of: &length) { hasher.update($0) }
        hasher.update(bytes)
    }

    static func isCredential(_ value: String) -> Bool {
        value.utf8.contains { !isSpace($0) }
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// `name` equals `other` but for the case of ASCII letters (`ASCIICase`), over the strings'
    /// contiguous UTF-8 (every native or small String has it): these run for every header of
    /// every request, and iterating two `UTF8View`s in step cost several times the comparison.
    static func equalsIgnoringCase(_ name: String, _ other: String) -> Bool {
        guard name.utf8.count == other.utf8.count else { return false }
        let fast = name.utf8.withContiguousStorageIfAvailable { left in
            other.utf8.withContiguousStorageIfAvailable { right in ASCIICase.equal(left, right) }
        }
        if let fast, let fast { return fast }
        return ASCIICase.equal(name.utf8, other.utf8)
    }

    /// The offsets of `bytes` without surrounding spaces and tabs (empty when all are).
    static func trimmedOffsets(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        var start = 0, end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return start ..< end
    }

    /// `value` trimmed of spaces and tabs, then, when `bearer` says so, of a `Bearer ` scheme
    /// (any case) and the spaces after it, as a slice of `value`: the byte work on contiguous
    /// UTF-8, one Substring made at the end. `bearer`: `.required` (nil without the scheme),
    /// `.optional` (the scheme dropped when present), `.kept`.
    static func token(of value: String, bearer: BearerScheme) -> Substring? {
        let offsets = value.utf8.withContiguousStorageIfAvailable { tokenOffsets(in: $0, bearer: bearer) }
        guard let offsets else { return slowToken(of: value, bearer: bearer) }
        guard let offsets else { return nil }
        let utf8 = value.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: offsets.lowerBound)
        let end = utf8.index(utf8.startIndex, offsetBy: offsets.upperBound)
        return value[start ..< end]
    }

    /// The offsets of `token(of:bearer:)`'s token in a value's bytes; nil when `bearer` is
    /// `.required` and the value has no `Bearer ` scheme.
    static func tokenOffsets(in bytes: UnsafeBufferPointer<UInt8>, bearer: BearerScheme) -> Range<Int>? {
        var range = trimmedOffsets(bytes)
        let scheme = UnsafeBufferPointer(rebasing: bytes[range.lowerBound ..< min(range.upperBound, range.lowerBound + 7)])
        let hasScheme = range.count > 7 && ASCIICase.equal(scheme, bearerPrefix)
        switch bearer {
        case .required where !hasScheme: return nil
        case .required, .optional:
            if hasScheme {
                range = range.lowerBound + 7 ..< range.upperBound
                while range.lowerBound < range.upperBound, isSpace(bytes[range.lowerBound]) { range = range.lowerBound + 1 ..< range.upperBound }
            }
        case .kept: break
        }
        return range
    }

    enum BearerScheme { case required, optional, kept }

    private static let bearer: StaticString = "bearer "
    private static var bearerPrefix: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: bearer.utf8Start, count: bearer.utf8CodeUnitCount)
    }

    /// The same for a String without contiguous UTF-8 (bridged): never on the request path.
    private static func slowToken(of value: String, bearer: BearerScheme) -> Substring? {
        var copy = value
        copy.makeContiguousUTF8()
        guard let token = token(of: copy, bearer: bearer) else { return nil }
        let start = copy.utf8.distance(from: copy.utf8.startIndex, to: token.utf8.startIndex)
        let utf8 = value.utf8
        let first = utf8.index(utf8.startIndex, offsetBy: start)
        return value[first ..< utf8.index(first, offsetBy: token.utf8.count)]
    }
}
