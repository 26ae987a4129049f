import RepriseCrypto

/// How the tenant namespace of a cache key is chosen (`cache.namespace`): tenant isolation.
///
/// Config string forms: `credential` (default), `header:NAME`, `global`.
public enum NamespaceMode: Sendable, Equatable, CustomStringConvertible {
    /// A hash of the client's credential: the `Authorization: Bearer` token, else the `api-key`
    /// header. No credential at all gives `anonymous`.
    case credential
    /// The value of the named request header (absent → `anonymous`).
    case header(String)
    /// One namespace shared by everyone: `global`.
    case global

    public static let anonymous = "anonymous"
    public static let globalNamespace = "global"
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

    /// The namespace of a request. `headerValue` returns the first value of a header by
    /// (case-insensitive) name — e.g. NIO's `HTTPHeaders.first(name:)`.
    ///
    /// The result only contains `[A-Za-z0-9._-]` (at most 64 bytes): a `header:` value outside
    /// that alphabet is replaced by `h-` + its hash, so no namespace can contain `:` or `*` and
    /// purge patterns (`reprise:v1:<ns>:*`) never reach into another namespace.
    public func namespace(hasher: SHA256Hasher, headerValue: (String) -> String?) -> String {
        switch self {
        case .global:
            return Self.globalNamespace
        case .credential:
            guard let credential = Self.credential(headerValue: headerValue) else { return Self.anonymous }
            hasher.update("reprise-namespace-v1\u{0}".utf8)
            hasher.update(credential.utf8)
            return String(hasher.finalize().hexString.prefix(Self.credentialHashHexCount))
        case .header(let name):
            guard let value = headerValue(name)?.trimmingSpaces, !value.isEmpty else { return Self.anonymous }
            if value.utf8.count <= 64, value.utf8.allSatisfy(Self.isNamespaceByte), value != Self.anonymous, value != Self.globalNamespace {
                return value
            }
            hasher.update("reprise-namespace-header-v1\u{0}".utf8)
            hasher.update(value.utf8)
            return "h-" + hasher.finalize().hexString.prefix(Self.credentialHashHexCount)
        }
    }

    /// Convenience over a header list (names compared case-insensitively).
    public func namespace(hasher: SHA256Hasher, headers: [(name: String, value: String)]) -> String {
        namespace(hasher: hasher) { wanted in
            headers.first { $0.name.lowercased() == wanted.lowercased() }?.value
        }
    }

    /// The bearer token of `Authorization`, else the `api-key` header value.
    static func credential(headerValue: (String) -> String?) -> String? {
        if let authorization = headerValue("authorization")?.trimmingSpaces {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let token = String(parts[1]).trimmingSpaces
                if !token.isEmpty { return token }
            }
        }
        if let apiKey = headerValue("api-key")?.trimmingSpaces, !apiKey.isEmpty { return apiKey }
        return nil
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
