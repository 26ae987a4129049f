/// What keeps a user on one variant (`routing.routes[].sticky_by`): the same identity always
/// lands in the same bucket, so it stays on its variant while the weights do not move it.
///
/// Config string forms: `credential` (the request's API key: `Authorization`, `api-key` or
/// `x-api-key`), `header:NAME` (a header such as `X-User-Id`),
/// `body:user` (the request body's top-level `user` field).
public enum StickyIdentity: Sendable, Equatable, Decodable, CustomStringConvertible {
    case credential
    /// Lower-cased header name.
    case header(String)
    case bodyUser

    public init?(parsing text: String) {
        let lower = text.lowercased()
        if lower == "credential" {
            self = .credential
        } else if lower == "body:user" {
            self = .bodyUser
        } else if lower.hasPrefix("header:"), lower.count > "header:".count {
            let name = String(lower.dropFirst("header:".count))
            guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }) else { return nil }
            self = .header(name)
        } else {
            return nil
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = Self(parsing: text) else {
            throw ConfigError(keyPath: configKeyPath(decoder.codingPath),
                              "'\(text)' is not a sticky identity (expected credential, header:NAME or body:user)")
        }
        self = parsed
    }

    public var description: String {
        switch self {
        case .credential: "credential"
        case .header(let name): "header:\(name)"
        case .bodyUser: "body:user"
        }
    }
}
