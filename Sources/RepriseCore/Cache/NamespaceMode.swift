import RepriseCrypto

/// How the tenant namespace of a cache key is chosen (`cache.namespace`): tenant isolation.
///
/// Config string forms: `credential` (default), `header:NAME`, `global`.
public enum NamespaceMode: Sendable, Equatable, CustomStringConvertible {
    /// A hash of every credential-bearing header the upstream could read (`CredentialHeaders`):
    /// each distinct credential, in any form, is its own tenant. No credential gives `anonymous`.
    case credential
    /// The value(s) of the named request header (absent → `anonymous`).
    case header(String)
    /// One namespace shared by everyone: `global`.
    case global

    public static let anonymous = "anonymous"
    public static let globalNamespace = "global"

    /// The request named no tenant (`CacheConfig.anonymous` decides). No other namespace is
    /// `anonymous`: a `header:` value spelling it is hashed.
    public static func isAnonymous(_ namespace: String) -> Bool {
        namespace.utf8.count == anonymous.utf8.count && namespace == anonymous
    }
    /// Hex characters of SHA-256 kept in a credential namespace (128 bits: collisions between
    /// tenants are out of reach, and the namespace stays short in Redis keys).
    public static let credentialHashHexCount = 32

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let input: String
        public var description: String {
            "invalid cache namespace mode \"\(input)\" (expected credential, header:NAME or global)"
        }
    }

    /// Parses `credential`, `header:NAME` or `global` (mode names case-insensitive).
    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingSpaces
        let lower = trimmed.lowercased()
        if lower == "credential" {
            self = .credential
        } else if lower == "global" {
            self = .global
        } else if lower.hasPrefix("header:") {
            let name = trimmed.dropFirst("header:".count).trimmingSpaces
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else { throw ParseError(input: text) }
            self = .header(name.lowercased())
        } else {
            throw ParseError(input: text)
        }
    }

    public var description: String {
        switch self {
        case .credential: "credential"
        case .header(let name): "header:\(name)"
        case .global: "global"
        }
    }

    /// Calls its argument with every request header, in arrival order, repeated headers once
    /// per value (e.g. `for header in headers { visit(header.name, header.value) }` over NIO's
    /// `HTTPHeaders`). Non-escaping both ways: reading a request's headers allocates nothing.
    public typealias HeaderVisitor = ((_ name: String, _ value: String) -> Void) -> Void

    /// Whether the namespace depends on the header `name` (any case): a caller may list only
    /// those headers (and skip making the others' values into `String`s).
    public func reads(headerNamed name: UnsafeBufferPointer<UInt8>) -> Bool {
        switch self {
        case .global:
            return false
        case .credential:
            return CredentialHeaders.Name(header: name) != nil
        case .header(var wanted):
            return wanted.withUTF8 { ASCIICase.equal(name, $0) }
        }
    }

    public func reads(headerNamed name: String) -> Bool {
        var name = name
        return name.withUTF8 { reads(headerNamed: $0) }
    }

    /// The namespace of a request whose headers `forEachHeader` lists.
    ///
    /// The result only contains `[A-Za-z0-9._-]` (at most 64 bytes): a `header:` value outside
    /// that alphabet is replaced by `h-` + its hash, so no namespace can contain `:` or `*` and
    /// purge patterns (`reprise:v1:<ns>:*`) never reach into another namespace. `anonymous`
    /// means no credential (or, in `header:` mode, no header): see `CacheConfig.anonymous`.
    public func namespace(hasher: SHA256Hasher, forEachHeader: HeaderVisitor) -> String {
        switch self {
        case .global:
            return Self.globalNamespace
        case .credential:
            let credentials = CredentialHeaders(forEachHeader)
            guard !credentials.isEmpty else { return Self.anonymous }
            return Self.credentialNamespace(digest: credentials.digest(hasher: hasher, forEachHeader))
        case .header(let name):
            return headerNamespace(name: name, hasher: hasher, forEachHeader)
        }
    }

    /// The namespace of a credential digest (`CredentialHeaders.digest`).
    static func credentialNamespace(digest: [UInt8]) -> String {
        String(digest.hexString.prefix(credentialHashHexCount))
    }

    /// Convenience over a header list (names compared case-insensitively).
    public func namespace(hasher: SHA256Hasher, headers: [(name: String, value: String)]) -> String {
        namespace(hasher: hasher) { visit in
            for header in headers { visit(header.name, header.value) }
        }
    }

    /// `header:NAME`: one value is the namespace itself when it is short and plain (else
    /// `h-` + its hash, as before); several values of a repeated header are all framed into
    /// the hash, in order, so `a, b` in one line and `a` + `b` in two never share.
    private func headerNamespace(name: String, hasher: SHA256Hasher, _ forEachHeader: HeaderVisitor) -> String {
        var count = 0
        var first: String?
        forEachHeader { headerName, value in
            guard CredentialHeaders.equalsIgnoringCase(headerName, name) else { return }
            count += 1
            if first == nil { first = value }
        }
        guard let first else { return Self.anonymous }
        if count == 1 {
            let value = first.trimmingSpaces
            guard !value.isEmpty else { return Self.anonymous }
            if value.utf8.count <= 64, value.utf8.allSatisfy(Self.isNamespaceByte), value != Self.anonymous, value != Self.globalNamespace {
                return value
            }
            hasher.update("reprise-namespace-header-v1\u{0}".utf8)
            hasher.update(value.utf8)
        } else {
            hasher.update("reprise-namespace-header-v2\u{0}".utf8)
            forEachHeader { headerName, value in
                guard CredentialHeaders.equalsIgnoringCase(headerName, name) else { return }
                CredentialHeaders.feedField(value.utf8, into: hasher)
            }
        }
        return "h-" + hasher.finalize().hexString.prefix(Self.credentialHashHexCount)
    }

    static func isNamespaceByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "A") ... UInt8(ascii: "Z"),
             UInt8(ascii: "0") ... UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): true
        default: false
        }
    }

    /// RFC 9110 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        isNamespaceByte(byte) || "!#$%&'*+^`|~".utf8.contains(byte)
    }
}

extension StringProtocol {
    /// Without leading/trailing spaces and tabs (HTTP optional whitespace).
    var trimmingSpaces: String {
        let bytes = Array(utf8)
        guard let start = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
              let end = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        return String(decoding: bytes[start ... end], as: UTF8.self)
    }
}
