/// Redis URLs:
/// - `redis://[[user]:password@]host[:port][/db]` (port 6379 by default, IPv6 hosts in brackets)
/// - `unix:///path/to.sock[?db=N]` (also `password=` and `user=` query items)
/// - `rediss://` is refused: hiredis 0.14 has no TLS.
/// User, password and path are percent-decoded. Errors never quote a secret: the URL is
/// `redacted`, and parts that may hold a mistyped password (port, database, query names) are
/// described rather than quoted.
extension RedisConfiguration {
    public init(url: String) throws(RedisError) {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw RedisError(.invalidURL, "'\(Self.redacted(url))' has no scheme (expected redis:// or unix://)")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = String(url[schemeEnd.upperBound...])
        switch scheme {
        case "redis":
            try self.init(redisURLRest: rest, url: url)
        case "unix":
            try self.init(unixURLRest: rest, url: url)
        case "rediss":
            throw RedisError(
                .unsupportedScheme,
                "rediss:// (Redis over TLS) is not supported: hiredis 0.14 has no TLS; use redis:// or unix://"
            )
        default:
            throw RedisError(.unsupportedScheme, "unknown scheme '\(scheme)' (expected redis:// or unix://)")
        }
    }

    private init(redisURLRest rest: String, url: String) throws(RedisError) {
        var authority = rest
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = String(rest[..<slash])
            path = String(rest[rest.index(after: slash)...])
        }
        if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
        var username: String?
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let userInfo = String(authority[..<at])
            authority = String(authority[authority.index(after: at)...])
            if let colon = userInfo.firstIndex(of: ":") {
                let user = try Self.percentDecoded(String(userInfo[..<colon]), url: url)
                username = user.isEmpty ? nil : user
                password = try Self.percentDecoded(String(userInfo[userInfo.index(after: colon)...]), url: url)
            } else if !userInfo.isEmpty {
                // redis://secret@host: a lone user-info is the password (the classic form).
                password = try Self.percentDecoded(userInfo, url: url)
            }
        }
        var host = authority
        var port = 6379
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw RedisError(.invalidURL, "'\(Self.redacted(url))': unterminated IPv6 host")
            }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = try Self.port(String(after.dropFirst()), url: url) }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = try Self.port(String(authority[authority.index(after: colon)...]), url: url)
        }
        guard !host.isEmpty else { throw RedisError(.invalidURL, "'\(Self.redacted(url))' has no host") }
        var database = 0
        if !path.isEmpty {
            guard let number = Int(path), number >= 0 else {
                throw RedisError(.invalidURL, "'\(Self.redacted(url))': the database (after /) is not a number ≥ 0")
            }
            database = number
        }
        self.init(endpoint: .tcp(host: host, port: port), username: username, password: password, database: database)
    }

    private init(unixURLRest rest: String, url: String) throws(RedisError) {
        var path = rest
        var query = ""
        if let mark = rest.firstIndex(of: "?") {
            path = String(rest[..<mark])
            query = String(rest[rest.index(after: mark)...])
        }
        path = try Self.percentDecoded(path, url: url)
        guard path.hasPrefix("/") else {
            throw RedisError(.invalidURL, "'\(Self.redacted(url))': expected an absolute path, unix:///path/to.sock")
        }
        var database = 0
        var username: String?
        var password: String?
        for item in query.split(separator: "&") where !item.isEmpty {
            // Not `split`: it drops empty pieces, so `=` alone would have no name part.
            let equals = item.firstIndex(of: "=")
            let name = String(item[..<(equals ?? item.endIndex)])
            let value = try Self.percentDecoded(equals.map { String(item[item.index(after: $0)...]) } ?? "", url: url)
            switch name {
            case "db":
                guard let number = Int(value), number >= 0 else {
                    throw RedisError(.invalidURL, "'\(Self.redacted(url))': db is not a number ≥ 0")
                }
                database = number
            case "password": password = value
            case "user", "username": username = value
            default:
                // An item without `=` may be a value typed alone: not quoted.
                let shown = equals != nil && Self.isQueryName(name) ? "'\(name)'" : "with an unexpected name"
                throw RedisError(.invalidURL, "'\(Self.redacted(url))': unknown query item \(shown) (expected db, user, password)")
            }
        }
        self.init(endpoint: .unixSocket(path: path), username: username, password: password, database: database)
    }

    private static func port(_ text: String, url: String) throws(RedisError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw RedisError(.invalidURL, "'\(redacted(url))': the port is not a number in 1...65535")
        }
        return port
    }

    private static func percentDecoded(_ text: String, url: String) throws(RedisError) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
                else { throw RedisError(.invalidURL, "'\(redacted(url))': bad percent escape") }
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The URL with every secret it may hold replaced by `***`, fit for errors and logs: the
    /// user-info (`user:pass@`, `:pass@`, `pass@`); in a `redis://` URL without `@`, a port or
    /// database that is not a number (`redis://:secret` is a password that lost its `@`); and
    /// the value of every query item but a numeric `db` (`?password=`, `&user=`, `?token=`,
    /// ...; an item without `=` is replaced whole).
    public static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return redactedQuery(url) }
        var rest = url[schemeEnd.upperBound...]
        var out = String(url[..<schemeEnd.upperBound])
        let queryStart = rest.firstIndex(of: "?") ?? rest.endIndex
        if let at = rest.lastIndex(of: "@") {
            out += "***"
            rest = rest[at...]
        } else if url[..<schemeEnd.lowerBound].lowercased() == "redis" {
            let authorityEnd = rest[..<queryStart].firstIndex(of: "/") ?? queryStart
            var authority = String(rest[..<authorityEnd])
            if !authority.hasPrefix("["), let colon = authority.lastIndex(of: ":"), !isDigits(authority[authority.index(after: colon)...]) {
                authority = authority[...colon] + "***"
            }
            var path = String(rest[authorityEnd ..< queryStart])
            if !path.isEmpty, !isDigits(path.dropFirst()) { path = "/***" }
            out += authority + path
            rest = rest[queryStart...]
        }
        return out + redactedQuery(String(rest))
    }

    /// `text` with the value of every query item but a numeric `db` replaced by `***`.
    private static func redactedQuery(_ text: String) -> String {
        guard let mark = text.firstIndex(of: "?") else { return text }
        let items = text[text.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false).map { item -> String in
            guard let equals = item.firstIndex(of: "=") else { return item.isEmpty ? "" : "***" }
            let name = item[..<equals]
            return name == "db" && isDigits(item[item.index(after: equals)...]) ? String(item) : name + "=***"
        }
        return text[...mark] + items.joined(separator: "&")
    }

    private static func isDigits(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// A query item name worth quoting in an error: a short word, not a value typed in its place.
    private static func isQueryName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 16 && name.utf8.allSatisfy { ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") || $0 == UInt8(ascii: "_") }
    }
}
