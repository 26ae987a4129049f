/// Redis URLs:
/// - `redis://[[user]:password@]host[:port][/db]` (port 6379 by default, IPv6 hosts in brackets)
/// - `unix:///path/to.sock[?db=N]` (also `password=` and `user=` query items)
/// - `rediss://` is refused: hiredis 0.14 has no TLS.
/// User, password and path are percent-decoded.
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
                throw RedisError(.invalidURL, "'\(Self.redacted(url))': database '\(path)' is not a number ≥ 0")
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
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts[0]
            let value = try Self.percentDecoded(parts.count > 1 ? parts[1] : "", url: url)
            switch name {
            case "db":
                guard let number = Int(value), number >= 0 else {
                    throw RedisError(.invalidURL, "'\(Self.redacted(url))': db '\(value)' is not a number ≥ 0")
                }
                database = number
            case "password": password = value
            case "user", "username": username = value
            default:
                throw RedisError(.invalidURL, "'\(Self.redacted(url))': unknown query item '\(name)'")
            }
        }
        self.init(endpoint: .unixSocket(path: path), username: username, password: password, database: database)
    }

    private static func port(_ text: String, url: String) throws(RedisError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw RedisError(.invalidURL, "'\(redacted(url))': port '\(text)' is not in 1...65535")
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

    /// The URL with its password replaced, fit for errors and logs.
    static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://"),
              let at = url[schemeEnd.upperBound...].lastIndex(of: "@")
        else { return url }
        return url[..<schemeEnd.upperBound] + "***" + url[at...]
    }
}
