/// An upstream base URL: `https://api.deepseek.com`, `http://127.0.0.1:9090`,
/// `https://gateway.internal/openai` (a path prefix is kept and the request path appended).
public struct UpstreamURL: Hashable, Sendable, Decodable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int
    /// Path prefix without a trailing slash; empty for none.
    public var pathPrefix: String

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        switch Self.parse(text) {
        case .success(let url): self = url
        case .failure(let reason):
            throw ConfigError(keyPath: configKeyPath(decoder.codingPath), "'\(Self.redacted(text))' is not an upstream URL: \(reason)")
        }
    }

    public init?(parsing text: String) {
        guard case .success(let url) = Self.parse(text) else { return nil }
        self = url
    }

    private init(scheme: String, host: String, port: Int, pathPrefix: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.pathPrefix = pathPrefix
    }

    /// `text` as an error may quote it: what could be a secret (user-info before `@`, a query
    /// or fragment) becomes `***`. A refused URL is often a pasted one that carries a key.
    public static func redacted(_ text: String) -> String {
        var shown = Substring(text)
        var suffix = ""
        if let cut = shown.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            shown = shown[..<cut]
            suffix = "?***"
        }
        let afterScheme = shown.range(of: "://").map(\.upperBound) ?? shown.startIndex
        let authorityEnd = shown[afterScheme...].firstIndex(of: "/") ?? shown.endIndex
        if let at = shown[afterScheme..<authorityEnd].lastIndex(of: "@") {
            return String(shown[..<afterScheme]) + "***" + String(shown[at...]) + suffix
        }
        return String(shown) + suffix
    }

    struct ParseFailure: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String) -> Result<UpstreamURL, ParseFailure> {
        let scheme: String
        var rest: Substring
        if text.hasPrefix("https://") {
            scheme = "https"
            rest = text.dropFirst("https://".count)
        } else if text.hasPrefix("http://") {
            scheme = "http"
            rest = text.dropFirst("http://".count)
        } else {
            return .failure(ParseFailure(description: "the scheme must be http:// or https://"))
        }
        if rest.contains("?") || rest.contains("#") {
            return .failure(ParseFailure(description: "a query or fragment is not allowed"))
        }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[slash...]
            rest = rest[..<slash]
        }
        if rest.contains("@") {
            return .failure(ParseFailure(description: "credentials in the URL are not allowed; clients send their own Authorization"))
        }
        var host = rest
        var port = scheme == "https" ? 443 : 80
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return .failure(ParseFailure(description: "unclosed [ in the host")) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let parsed = Int(after.dropFirst()), (1...65535).contains(parsed) else {
                    return .failure(ParseFailure(description: "bad port"))
                }
                port = parsed
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let parsed = Int(rest[rest.index(after: colon)...]), (1...65535).contains(parsed) else {
                return .failure(ParseFailure(description: "bad port"))
            }
            port = parsed
        }
        if host.isEmpty { return .failure(ParseFailure(description: "the host is missing")) }
        while path.hasSuffix("/") { path = path.dropLast() }
        return .success(UpstreamURL(scheme: scheme, host: String(host), port: port, pathPrefix: String(path)))
    }

    public var isTLS: Bool { scheme == "https" }

    /// `host[:port]` (IPv6 bracketed) with the port only when it is not the scheme's default:
    /// the `Host` header of a request to this upstream.
    public var authority: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        let defaultPort = isTLS ? 443 : 80
        return port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }

    /// `scheme://host[:port]` with the port only when it is not the scheme's default.
    public var origin: String { "\(scheme)://\(authority)" }

    public var description: String { origin + pathPrefix }
}
